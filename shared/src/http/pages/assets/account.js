// The buyer's account: sign in by emailed link (?token=), then GET /me:
// subscriptions with their files, orders, credits; renew (a checkout with
// the session) and report a bad file. The session stays in sessionStorage.
"use strict";

(() => {
  const { api, el, money, when, duration, showError, randomKey, fileList } = Stockroom;
  const $ = (id) => document.getElementById(id);
  const KEY = "stockroom.session";
  let me = null;

  function session() {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
      if (s && s.session_token && (!s.expires_at || new Date(s.expires_at) > new Date())) return s.session_token;
    } catch (e) { /* fall through */ }
    sessionStorage.removeItem(KEY);
    return null;
  }

  function show(id) {
    for (const s of ["signin", "sent", "me"]) $(s).hidden = s !== id;
  }

  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }

  async function sendLink(ev) {
    ev.preventDefault();
    showError(null);
    const email = $("signin-email").value.trim();
    if (!$("signin-email").checkValidity() || !email) {
      showError(new Error("Please enter a valid email address."));
      return;
    }
    $("signin-send").disabled = true;
    try {
      await api("POST", "/auth/link", { body: { email } });
      show("sent");
    } catch (e) {
      showError(e);
    } finally {
      $("signin-send").disabled = false;
    }
  }

  // The link's single-use token, exchanged once, then taken out of the URL
  // (and of history) so a reload or a shared screen does not replay it.
  async function exchange(token) {
    history.replaceState(null, "", location.pathname);
    const s = await api("POST", "/auth/session", { body: { token } });
    sessionStorage.setItem(KEY, JSON.stringify(s));
  }

  async function load() {
    const token = session();
    if (!token) return show("signin");
    try {
      me = await api("GET", "/me", { token });
    } catch (e) {
      if (e.status === 401) {
        sessionStorage.removeItem(KEY);
        show("signin");
        return showError(new Error("Your session has ended; please sign in again."));
      }
      return showError(e);
    }
    render();
    show("me");
  }

  function render() {
    $("me-email").textContent = me.email;
    const c = me.credits || {};
    $("credits").replaceChildren(
      el("dt", {}, "Spendable"), el("dd", { id: "credits-spendable" }, String(c.spendable ?? 0)),
      el("dt", {}, "Posted"), el("dd", {}, String(c.posted ?? 0)),
      el("dt", {}, "Pending"), el("dd", {}, String(c.pending_in ?? 0)),
      el("dt", {}, "Being spent"), el("dd", {}, String(c.pending_out ?? 0)));
    const subs = $("subscriptions");
    subs.replaceChildren();
    if (!(me.subscriptions || []).length) subs.append(el("p", { class: "note" }, "No subscriptions yet. ", el("a", { href: "/shop" }, "Choose a plan"), "."));
    for (const s of me.subscriptions || []) subs.append(subscriptionCard(s));
    const orders = $("orders");
    orders.replaceChildren();
    if (!(me.orders || []).length) orders.append(el("p", { class: "note" }, "No orders yet."));
    else orders.append(orderTable(me.orders));
  }

  function subscriptionCard(s) {
    const card = el("article", { class: "card", "data-subscription": s.id, "aria-labelledby": "sub-" + s.id },
      el("h3", { id: "sub-" + s.id }, s.product_id + " ", el("span", { class: "badge" }, s.state)),
      el("dl", { class: "facts" },
        el("dt", {}, "Subscription"), el("dd", {}, el("code", {}, s.id)),
        el("dt", {}, "Valid until"), el("dd", {}, when(s.valid_until)),
        el("dt", {}, "Posting interval"), el("dd", {}, duration(s.interval_seconds)),
        el("dt", {}, "Bot may run"), el("dd", {}, s.can_run ? "yes" : "no")),
      el("h4", {}, "Files"), fileList(s.files));
    card.append(renewForm(s));
    if ((s.files || []).length && ["active", "grace"].includes(s.state)) card.append(reportForm(s));
    return card;
  }

  function renewForm(s) {
    const id = "renew-" + s.id;
    const provider = el("select", { id: id + "-provider" },
      el("option", { value: "nowpayments" }, "Crypto (NOWPayments)"), el("option", { value: "stripe" }, "Card (Stripe)"));
    const credits = el("input", { type: "checkbox", id: id + "-credits" });
    const button = el("button", { type: "submit" }, "Renew");
    const form = el("form", { class: "renew", "aria-label": "Renew " + s.product_id },
      el("label", { for: id + "-provider" }, "Renew with"), provider,
      (me.credits && me.credits.spendable > 0) ? el("label", {}, credits, " Use my credits") : null,
      el("div", { class: "actions" }, button));
    let attempt = null;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const body = { email: me.email, product_id: s.product_id, provider: provider.value, renew_subscription_id: s.id };
      if (credits.checked) body.use_credits = true;
      const text = JSON.stringify(body);
      if (!attempt || attempt.body !== text) attempt = { body: text, key: randomKey() };
      button.disabled = true;
      try {
        const order = await api("POST", "/checkout", { body, token: session(), headers: { "Idempotency-Key": attempt.key } });
        // The shop shows the payment and follows the order.
        sessionStorage.setItem("payment:" + order.order_id, JSON.stringify(order));
        location.assign("/shop#order=" + encodeURIComponent(order.order_id) + "&token=" + encodeURIComponent(order.order_token));
      } catch (e) {
        showError(e);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function reportForm(s) {
    const id = "report-" + s.id;
    const file = el("select", { id: id + "-file" }, ...s.files.map((f) => el("option", { value: f }, f)));
    const reason = el("input", { type: "text", id: id + "-reason", maxlength: 500, required: true });
    const button = el("button", { type: "submit", class: "secondary" }, "Report a bad file");
    const form = el("form", { class: "report", "aria-label": "Report a bad file of " + s.product_id },
      el("label", { for: id + "-file" }, "File that does not work"), file,
      el("label", { for: id + "-reason" }, "What is wrong"), reason,
      el("div", { class: "actions" }, button));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      notice(null);
      if (!reason.value.trim()) {
        showError(new Error("Please say what is wrong with the file."));
        return reason.focus();
      }
      button.disabled = true;
      try {
        const r = await api("POST", "/me/subscriptions/" + encodeURIComponent(s.id) + "/replacements",
          { body: { file: file.value, reason: reason.value.trim() }, token: session() });
        notice(r.status === "replaced"
          ? "Replaced: " + r.old_file + " is now " + r.new_file + "."
          : "Reported: " + r.old_file + " stays in use until a new file replaces it, first thing when stock returns.");
        await load();
      } catch (e) {
        showError(e);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function orderTable(orders) {
    const rows = orders.map((o) => el("tr", {},
      el("td", {}, el("code", {}, o.order_id)), el("td", {}, o.product_id), el("td", {}, o.status),
      el("td", {}, money(o.price)), el("td", {}, when(o.created_at))));
    return el("table", {},
      el("thead", {}, el("tr", {}, ...["Order", "Plan", "Status", "Price", "Placed"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows));
  }

  async function start() {
    const token = new URLSearchParams(location.search).get("token");
    if (token) {
      try {
        await exchange(token);
      } catch (e) {
        show("signin");
        return showError(e.status === 401 ? new Error("That sign-in link has been used or has lapsed; ask for a new one.") : e);
      }
    }
    await load();
  }

  $("signin-form").addEventListener("submit", sendLink);
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    me = null;
    notice(null);
    show("signin");
  });
  start();
})();
