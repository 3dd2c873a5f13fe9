// Helpers both pages share: API calls that turn problem+json into an
// Error carrying its `detail`, DOM building without innerHTML, money.
"use strict";

const Stockroom = (() => {
  // One call to the JSON API. Resolves to the parsed body (or null);
  // rejects with an Error whose message is the problem's detail.
  async function api(method, path, { body, token, headers } = {}) {
    const h = { Accept: "application/json", ...(headers || {}) };
    if (body !== undefined) h["Content-Type"] = "application/json";
    if (token) h.Authorization = "Bearer " + token;
    let resp;
    try {
      resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new Error("The shop cannot be reached; check your connection and try again.");
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!resp.ok) {
      const err = new Error((data && (data.detail || data.title)) || "The request failed (" + resp.status + ").");
      err.status = resp.status;
      err.type = data && data.type ? String(data.type) : "";
      throw err;
    }
    return data;
  }

  // el("p", {class: "note"}, "text", child): text is always a text node.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function money(m) {
    if (!m || typeof m.amount !== "number") return "";
    try {
      const fmt = new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency });
      const digits = fmt.resolvedOptions().maximumFractionDigits;
      return fmt.format(m.amount / Math.pow(10, digits));
    } catch (e) {
      return (m.amount / 100).toFixed(2) + " " + m.currency;
    }
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString();
  }

  function duration(seconds) {
    if (seconds % 3600 === 0) return (seconds / 3600) + " h";
    if (seconds % 60 === 0) return (seconds / 60) + " min";
    return seconds + " s";
  }

  // The error box: shown with the message, or hidden with null.
  function showError(err) {
    const box = document.getElementById("error");
    if (!box) return;
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = err.message || String(err);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  // A random key (hex), for Idempotency-Key.
  function randomKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function fileList(files) {
    const list = el("ul", { class: "files" });
    for (const f of files || []) list.append(el("li", {}, el("code", {}, f)));
    return list;
  }

  return { api, el, money, when, duration, showError, randomKey, fileList };
})();
