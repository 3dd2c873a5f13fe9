// The console's building blocks: the staff session (a JWT in
// sessionStorage, its claims decoded only for display), tables, reports,
// the sales and cover chart (SVG drawn here), and the ledger as CSV.
"use strict";

const Console = (() => {
  const { api, el } = Stockroom;
  const KEY = "stockroom.staff";

  // The JWT's claims, read without checking the signature: for display
  // and for dropping an expired token; the server decides every call.
  function claims(token) {
    try {
      const part = String(token).split(".")[1];
      const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
      const c = JSON.parse(atob(b64));
      return c && typeof c === "object" ? c : null;
    } catch (e) {
      return null;
    }
  }

  function token() {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
      const c = s && claims(s.token);
      if (c && (!c.exp || c.exp * 1000 > Date.now())) return s.token;
    } catch (e) { /* fall through */ }
    sessionStorage.removeItem(KEY);
    return null;
  }

  function keep(t) {
    sessionStorage.setItem(KEY, JSON.stringify({ token: t }));
  }

  function forget() {
    sessionStorage.removeItem(KEY);
  }

  // A staff call: the token added; a 401 ends the session.
  let onExpired = () => {};
  async function call(method, path, body) {
    try {
      return await api(method, path, { body, token: token() });
    } catch (e) {
      if (e.status === 401) onExpired(e);
      throw e;
    }
  }

  function table(headers, rows, caption) {
    return el("div", { class: "scroll" }, el("table", {},
      caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))))));
  }

  // A job's report: one line per field, nested parts as JSON.
  function report(title, obj) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of Object.entries(obj || {})) {
      const text = v !== null && typeof v === "object" ? el("pre", {}, JSON.stringify(v, null, 2)) : String(v);
      dl.append(el("dt", {}, k), el("dd", {}, text));
    }
    return el("div", { class: "card report" }, el("h3", {}, title), dl);
  }

  // `YYYY-MM-DD` from a date input as the start (or end) of that UTC day.
  function dayBound(value, end) {
    if (!value) return "";
    return value + (end ? "T23:59:59Z" : "T00:00:00Z");
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  // Files sold per day over the window (bars, left), then from today the
  // available stock running down at the window's pace (line): where it
  // meets zero is the days of cover.
  function chart(a) {
    const W = 640, H = 220, L = 36, R = 44, T = 12, B = 28;
    const days = (a.overall && a.overall.days) || [];
    const cover = a.overall ? a.overall.days_of_cover : null;
    const ahead = Math.max(1, Math.min(days.length || 1, cover === null ? days.length : Math.ceil(cover) + 1));
    const slots = days.length + ahead;
    const x = (i) => L + (i / slots) * (W - L - R);
    const maxFiles = Math.max(1, ...days.map((d) => d.files));
    const maxAvail = Math.max(1, a.available);
    const yF = (v) => H - B - (v / maxFiles) * (H - T - B);
    const yA = (v) => H - B - (v / maxAvail) * (H - T - B);
    const label = "Files sold per day over the last " + days.length + " days (most " + maxFiles + "), and " +
      a.available + " available files lasting " + (cover === null ? "indefinitely (nothing sold)" : cover.toFixed(1) + " days") + ".";
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" });
    root.append(svg("title", {}, label));
    root.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#57606a" }));
    const bw = Math.max(1, (W - L - R) / slots - 1);
    days.forEach((d, i) => {
      if (!d.files) return;
      root.append(svg("rect", { x: x(i), y: yF(d.files), width: bw, height: H - B - yF(d.files), fill: "#0b5cad", "data-day": d.start }));
    });
    const today = x(days.length);
    root.append(svg("line", { x1: today, y1: T, x2: today, y2: H - B, stroke: "#d0d7de", "stroke-dasharray": "4 3" }));
    const shown = cover === null ? ahead : Math.min(cover, ahead);
    const left = cover === null ? a.available : cover > 0 ? a.available * (1 - shown / cover) : 0;
    root.append(svg("polyline", { points: `${today},${yA(a.available)} ${x(days.length + shown)},${yA(left)}`,
      fill: "none", stroke: "#a40e26", "stroke-width": 2, class: "cover-line" }));
    root.append(svg("text", { x: 2, y: T + 8, "font-size": 11, fill: "#57606a" }, String(maxFiles)));
    root.append(svg("text", { x: W - R + 4, y: yA(a.available) + 4, "font-size": 11, fill: "#a40e26" }, String(a.available)));
    root.append(svg("text", { x: L, y: H - 8, "font-size": 11, fill: "#57606a" }, "-" + days.length + " d"));
    root.append(svg("text", { x: today - 14, y: H - 8, "font-size": 11, fill: "#57606a" }, "today"));
    root.append(svg("text", { x: W - R - 30, y: H - 8, "font-size": 11, fill: "#57606a" }, "+" + ahead + " d"));
    return root;
  }

  // Every page of the ledger that matches, as the server writes it
  // (Accept: text/csv), joined under one header row.
  async function ledgerCsv(params, maxPages) {
    let cursor = "", out = "", pages = 0;
    do {
      const resp = await fetch("/admin/ledger" + query({ ...params, limit: 500, cursor }), {
        headers: { Accept: "text/csv", Authorization: "Bearer " + token() },
      });
      const text = await resp.text();
      if (!resp.ok) {
        let detail = "The ledger could not be read (" + resp.status + ").";
        try { detail = JSON.parse(text).detail || detail; } catch (e) { /* keep */ }
        const err = new Error(detail);
        err.status = resp.status;
        throw err;
      }
      out += pages === 0 ? text : text.slice(text.indexOf("\n") + 1);
      cursor = resp.headers.get("next-cursor") || "";
      pages += 1;
    } while (cursor && pages < maxPages);
    return { csv: out, complete: !cursor };
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  return { claims, token, keep, forget, call, table, report, dayBound, query, chart, ledgerCsv, download,
    set onExpired(f) { onExpired = f; } };
})();
