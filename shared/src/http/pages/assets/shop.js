// The storefront: catalog -> checkout -> payment instructions -> status.
// The order id and token live in the URL fragment (#order=..&token=..),
// the link mails carry, so a reload or a mailed link resumes the order.
"use strict";

(() => {
  const { api, el, money, when, duration, showError, randomKey, fileList } = Stockroom;
  const $ = (id) => document.getElementById(id);
  const sandbox = document.body.dataset.sandbox === "on";
  const DONE = new Set(["fulfilled", "expired", "failed", "refunded"]);
  const STATUS_TEXT = {
    pending: "Waiting for your payment.",
    confirming: "Payment seen; waiting for the network to confirm it.",
    partially_paid: "Part of the payment arrived.",
    paid: "Paid. Your files are being handed out…",
    fulfilled: "Delivered. Your files are below.",
    backordered: "Paid. We are out of stock right now: your files are delivered as soon as stock returns.",
    expired: "This order expired before its payment arrived.",
    failed: "The payment failed.",
    refunded: "This order was refunded.",
  };

  let chosen = null;          // the product being bought
  let attempt = null;         // {body, key}: one Idempotency-Key per distinct request
  let pollTimer = null;

  function section(id) {
    for (const s of ["catalog", "buy", "payment", "status", "renew"]) $(s).hidden = !id.includes(s);
  }

  async function loadCatalog() {
    section(["catalog"]);
    try {
      const products = await api("GET", "/products");
      const list = $("plans");
      list.replaceChildren();
      for (const p of products.filter((p) => (p.kind || "plan") === "plan")) list.append(planCard(p));
      $("catalog-loading").hidden = true;
    } catch (e) {
      $("catalog-loading").textContent = "The catalog could not be loaded.";
      showError(e);
    }
  }

  function planCard(p) {
    const titleId = "plan-" + p.id;
    const button = el("button", { type: "button", disabled: !p.in_stock, "aria-describedby": titleId },
      p.in_stock ? "Choose " + p.name : "Sold out");
    button.addEventListener("click", () => choose(p));
    return el("li", { class: "plan" + (p.in_stock ? "" : " sold-out"), "data-product": p.id },
      el("h3", { id: titleId }, p.name, " ", el("span", { class: "badge" }, p.in_stock ? p.tier : "sold out")),
      el("span", { class: "price" }, money(p.price)),
      el("ul", { class: "facts" },
        el("li", {}, p.files + (p.files === 1 ? " file" : " files")),
        el("li", {}, "one post every " + duration(p.interval_seconds)),
        el("li", {}, p.validity_days + " days")),
      button);
  }

  function choose(p) {
    chosen = p;
    showError(null);
    $("chosen").replaceChildren(el("strong", {}, p.name), " · " + money(p.price) + " · " + p.validity_days + " days");
    section(["buy"]);
    $("email").focus();
  }

  function provider() {
    return document.querySelector("input[name=provider]:checked").value;
  }

  function syncCoin() {
    $("coin-row").hidden = provider() !== "nowpayments";
  }

  async function checkout(ev) {
    ev.preventDefault();
    showError(null);
    const email = $("email").value.trim();
    if (!$("email").checkValidity() || !email) {
      showError(new Error("Please enter a valid email address."));
      $("email").focus();
      return;
    }
    const body = { email, product_id: chosen.id, provider: provider() };
    if (body.provider === "nowpayments") body.pay_currency = $("coin").value;
    // The same request keeps its key, so a double click or a retry after a
    // lost answer is the same order; a changed request gets a new key.
    const text = JSON.stringify(body);
    if (!attempt || attempt.body !== text) attempt = { body: text, key: randomKey() };
    const button = $("checkout");
    button.disabled = true;
    try {
      const order = await api("POST", "/checkout", { body, headers: { "Idempotency-Key": attempt.key } });
      sessionStorage.setItem("payment:" + order.order_id, JSON.stringify(order));
      attempt = null; // placed: buying again is a new order
      history.replaceState(null, "", "#order=" + encodeURIComponent(order.order_id) +
        "&token=" + encodeURIComponent(order.order_token));
      resume(order.order_id, order.order_token);
    } catch (e) {
      if ((e.type || "").endsWith("/insufficient-stock")) {
        e.message = "This plan sold out while you were choosing (" + e.message + ").";
        loadCatalog().then(() => section(["buy", "catalog"]));
      }
      showError(e);
    } finally {
      button.disabled = false;
    }
  }

  function instructions(order) {
    const pay = order.payment || {};
    const box = $("instructions");
    box.replaceChildren();
    const due = order.amount_due || order.price;
    if (pay.pay_address) {
      const amount = (pay.pay_amount || "") + " " + (pay.pay_currency || "").toUpperCase();
      box.append(
        el("p", {}, "Send exactly ", el("strong", { id: "pay-amount" }, amount), " to this address:"),
        el("p", { class: "address", id: "pay-address" }, pay.pay_address),
        el("img", { class: "qr", src: "/qr.svg?data=" + encodeURIComponent(pay.pay_address), alt: "QR code of the payment address", width: 200, height: 200 }),
        el("p", { class: "note" }, "Price " + money(due) + ". The plan's files are held for you until " + when(order.reserved_until) + "."));
    } else if (pay.checkout_url && !sandbox) {
      box.append(
        el("p", {}, "Pay " + money(due) + " by card on Stripe's page:"),
        el("p", {}, el("a", { class: "button", href: pay.checkout_url, rel: "noopener" }, "Pay by card")),
        el("p", { class: "note" }, "The plan's files are held for you until " + when(order.reserved_until) + "."));
    } else {
      box.append(el("p", {}, "Price " + money(due) + ". Held for you until " + when(order.reserved_until) + "."));
    }
    $("sandbox-pay").hidden = !sandbox;
  }

  async function sandboxPay() {
    const { id } = current;
    const button = $("sandbox-pay");
    button.disabled = true;
    showError(null);
    try {
      await api("POST", "/sandbox/pay/" + encodeURIComponent(id), { body: {} });
      poll(0);
    } catch (e) {
      showError(e);
      button.disabled = false;
    }
  }

  let current = null;         // {id, token}

  function resume(id, token) {
    current = { id, token };
    remember(id, token);
    $("order-link").href = "/shop#order=" + encodeURIComponent(id) + "&token=" + encodeURIComponent(token);
    const saved = sessionStorage.getItem("payment:" + id);
    section(["status"]);
    if (saved) {
      try { instructions(JSON.parse(saved)); $("payment").hidden = false; } catch (e) { /* shown without */ }
    }
    $("status-text").textContent = "Loading your order…";
    poll(0);
  }

  function poll(delay) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(refresh, delay);
  }

  async function refresh() {
    const { id, token } = current;
    let view;
    try {
      view = await api("GET", "/orders/" + encodeURIComponent(id), { token });
    } catch (e) {
      if (e.status === 404) {
        $("status-text").textContent = "This order link is not valid.";
        $("payment").hidden = true;
        return;
      }
      showError(e);
      poll(5000);
      return;
    }
    showError(null);
    render(view);
    if (!DONE.has(view.status)) poll(2000);
  }

  function render(view) {
    document.body.dataset.status = view.status;
    let text = STATUS_TEXT[view.status] || view.status;
    if (view.status === "partially_paid" && view.missing) text += " Still missing: " + view.missing + ".";
    $("status-text").replaceChildren(el("span", { class: view.status === "fulfilled" ? "ok" : "" }, text));
    // Payment instructions only while money is still awaited.
    if (!["pending", "partially_paid", "confirming"].includes(view.status)) $("payment").hidden = true;
    const box = $("delivery");
    box.replaceChildren(el("dl", { class: "facts" },
      el("dt", {}, "Order"), el("dd", {}, el("code", {}, view.order_id)),
      el("dt", {}, "Plan"), el("dd", {}, view.product_id),
      el("dt", {}, "Price"), el("dd", {}, money(view.price))));
    const sub = view.subscription;
    if (sub) {
      box.append(el("h3", {}, "Your subscription"),
        el("dl", { class: "facts" },
          el("dt", {}, "Subscription"), el("dd", {}, el("code", {}, sub.id)),
          el("dt", {}, "State"), el("dd", {}, sub.state),
          el("dt", {}, "Valid until"), el("dd", {}, when(sub.valid_until)),
          el("dt", {}, "Posting interval"), el("dd", {}, duration(sub.interval_seconds))),
        el("h3", {}, "Files"), fileList(sub.files),
        el("p", { class: "note" }, "See all your plans, renew or report a bad file on ", el("a", { href: "/account" }, "your account page"), "."));
    }
  }

  // The order this tab last placed: Stripe Checkout returns to #paid or
  // #cancelled with nothing of ours in the URL, and the tab picks it up.
  function remember(id, token) {
    sessionStorage.setItem("last-order", JSON.stringify({ id, token }));
  }

  function lastOrder() {
    try { return JSON.parse(sessionStorage.getItem("last-order") || "null"); } catch (e) { return null; }
  }

  function route() {
    clearTimeout(pollTimer);
    showError(null);
    const frag = new URLSearchParams(location.hash.slice(1));
    if (frag.get("order") && frag.get("token")) return resume(frag.get("order"), frag.get("token"));
    if (frag.has("paid") || frag.has("cancelled")) {
      const last = lastOrder();
      if (last && last.id && last.token) {
        history.replaceState(null, "", "#order=" + encodeURIComponent(last.id) + "&token=" + encodeURIComponent(last.token));
        return resume(last.id, last.token);
      }
      showError(new Error("Your order's link is in the mail we sent; open it to follow the order."));
    }
    if (frag.get("renew")) {
      $("renew-id").textContent = frag.get("renew");
      return section(["renew"]);
    }
    return loadCatalog();
  }

  $("buy-form").addEventListener("submit", checkout);
  $("back").addEventListener("click", () => section(["catalog"]));
  $("sandbox-pay").addEventListener("click", sandboxPay);
  for (const r of document.querySelectorAll("input[name=provider]")) r.addEventListener("change", syncCoin);
  window.addEventListener("hashchange", route);
  syncCoin();
  route();
})();
