// The staff console: sign in (emailed link + code, or a pasted token),
// then one section per task over the admin API. What the role may call
// comes from GET /admin/me; anything else is not offered.
"use strict";

(() => {
  const { el, money, when, showError } = Stockroom;
  const C = Console;
  const $ = (id) => document.getElementById(id);
  let allowed = new Set();
  let linkToken = null;
  const can = (method, route) => allowed.has(method + " " + route);

  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }

  // Runs a handler with errors shown and the button held while it runs.
  function guard(fn) {
    return async (ev) => {
      if (ev && ev.preventDefault) ev.preventDefault();
      showError(null);
      notice(null);
      const b = ev && (ev.submitter || (ev.currentTarget instanceof HTMLButtonElement ? ev.currentTarget : null));
      if (b) b.disabled = true;
      try { await fn(ev); } catch (e) { showError(e); } finally { if (b) b.disabled = false; }
    };
  }

  // ---- signing in -------------------------------------------------------
  function signedOut(message) {
    C.forget();
    allowed = new Set();
    $("who").hidden = true;
    $("tabs").hidden = true;
    for (const s of document.querySelectorAll("section.tab")) s.hidden = true;
    $("signin").hidden = false;
    $("session-form").hidden = !linkToken;
    if (message) showError(new Error(message));
  }
  C.onExpired = () => signedOut("Your staff session has ended; please sign in again.");

  async function signedIn() {
    const me = await C.call("GET", "/admin/me");
    allowed = new Set(me.allowed.map(([m, p]) => m + " " + p));
    const c = C.claims(C.token()) || {};
    $("who-text").textContent = (c.sub || me.actor) + " · " + (c.role || me.role) +
      (c.exp ? " · until " + when(new Date(c.exp * 1000).toISOString()) : "");
    $("who").hidden = false;
    $("signin").hidden = true;
    for (const n of document.querySelectorAll("[data-needs]")) n.hidden = !allowed.has(n.dataset.needs);
    for (const n of document.querySelectorAll("[data-needs-any]")) n.hidden = !n.dataset.needsAny.split("|").some((r) => allowed.has(r));
    $("tabs").hidden = false;
    route();
  }

  $("link-form").addEventListener("submit", guard(async () => {
    const email = $("link-email").value.trim();
    if (!email || !$("link-email").checkValidity()) throw new Error("Please enter a valid email address.");
    await Stockroom.api("POST", "/auth/staff/link", { body: { email } });
    $("link-sent").hidden = false;
  }));

  $("session-form").addEventListener("submit", guard(async () => {
    const body = { token: linkToken };
    const code = $("totp").value.replace(/\s/g, "");
    if (code) body.totp = code;
    let s;
    try {
      s = await Stockroom.api("POST", "/auth/staff/session", { body });
    } catch (e) {
      if (e.status === 401) e.message = e.message || "That link or code was refused; ask for a new link.";
      throw e;
    }
    linkToken = null;
    $("session-form").hidden = true;
    C.keep(s.session_token);
    await signedIn();
  }));

  $("token-form").addEventListener("submit", guard(async () => {
    const t = $("token-input").value.trim();
    const c = C.claims(t);
    if (!c || !c.role) throw new Error("That is not a staff token (a JWT with a role).");
    if (c.exp && c.exp * 1000 <= Date.now()) throw new Error("That token has expired.");
    C.keep(t);
    $("token-input").value = "";
    await signedIn();
  }));

  // A signed-in session ends on the server too; a pasted token only here.
  $("signout").addEventListener("click", guard(async () => {
    const c = C.claims(C.token()) || {};
    if (c.sid) await C.call("DELETE", "/admin/staff/me/session").catch(() => {});
    signedOut(null);
  }));

  // ---- sections ---------------------------------------------------------
  const loaders = {};
  function route() {
    if (!C.token()) return;
    const links = [...document.querySelectorAll("#tabs a")].filter((a) => !a.hidden);
    let id = location.hash.slice(1);
    if (!links.some((a) => a.getAttribute("href") === "#" + id)) id = links.length ? links[0].getAttribute("href").slice(1) : "";
    for (const a of links) a.toggleAttribute("aria-current", a.getAttribute("href") === "#" + id);
    for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== id;
    if (loaders[id]) guard(loaders[id])();
  }
  window.addEventListener("hashchange", route);

  // Stock: counts, warnings, analytics and the chart.
  loaders.stock = async () => {
    const st = await C.call("GET", "/admin/stock");
    $("stock-counts").replaceChildren(...["available", "unused", "reserved", "assigned", "banned", "frozen"].map((k) =>
      el("div", {}, el("dt", {}, k), el("dd", { "data-count": k }, String(st[k])))));
    await analytics(st);
  };
  async function analytics(st) {
    const a = await C.call("GET", "/admin/analytics" + C.query({ window_days: $("window-days").value }));
    const o = a.overall;
    const cover = (d) => d === null || d === undefined ? "no sales" : d.toFixed(1) + " days";
    $("cover").replaceChildren(
      el("dt", {}, "Days of cover"), el("dd", { id: "days-of-cover" }, cover(o.days_of_cover)),
      el("dt", {}, "Files sold per day"), el("dd", {}, o.velocity.toFixed(2)),
      el("dt", {}, "Reorder point"), el("dd", {}, String(o.reorder_point) + " files (lead time " + a.lead_time_days + " d, safety " + a.safety_stock + ")"),
      el("dt", {}, "Returning in window"), el("dd", {}, String(o.returning_files)),
      el("dt", {}, "Sales / revenue"), el("dd", {}, o.sales + " / " + revenue(o.revenue)));
    const low = a.available <= o.reorder_point || (o.days_of_cover !== null && o.days_of_cover < a.lead_time_days);
    $("stock-warning").hidden = !low;
    $("stock-warning").textContent = low ? "Low stock: " + a.available + " available, reorder point " + o.reorder_point +
      ", " + cover(o.days_of_cover) + " of cover against a " + a.lead_time_days + "-day restock." : "";
    $("chart").replaceChildren(C.chart(a));
    $("cover-table").replaceChildren(C.table(["Plan", "Sales", "Files sold", "Per day", "Cover", "Returning", "Reorder point"],
      a.products.map((p) => [p.product_id, String(p.sales), String(p.files_sold), p.velocity.toFixed(2),
        el("span", { class: p.days_of_cover !== null && p.days_of_cover < a.lead_time_days ? "low" : "" }, cover(p.days_of_cover)),
        String(p.returning_files), String(p.reorder_point)]), "Per plan over " + a.window_days + " days"));
  }
  const revenue = (r) => Object.entries(r || {}).map(([cur, amount]) => money({ amount, currency: cur })).join(", ") || "0";
  $("analytics-form").addEventListener("submit", guard(() => analytics()));

  // Orders: search, open one, act on it.
  let ordersCursor = null;
  async function searchOrders(more) {
    const q = { email: $("orders-email").value.trim(), status: $("orders-status").value,
      since: C.dayBound($("orders-since").value), until: C.dayBound($("orders-until").value, true), limit: 50,
      cursor: more ? ordersCursor : "" };
    const page = await C.call("GET", "/admin/orders" + C.query(q));
    ordersCursor = page.next_cursor;
    const rows = page.orders.map((o) => {
      const open = el("button", { type: "button", class: "secondary", "aria-label": "Open order " + o.order_id }, "Open");
      open.addEventListener("click", guard(() => openOrder(o.order_id)));
      return [el("code", {}, o.order_id), o.email, o.product_id, o.status, money(o.price), when(o.created_at), open];
    });
    const list = more ? $("orders-list") : $("orders-list").replaceChildren() || $("orders-list");
    if (!more) list.append(rows.length ? C.table(["Order", "Email", "Plan", "Status", "Price", "Placed", ""], rows) : el("p", { class: "note" }, "No orders match."));
    else list.querySelector("tbody").append(...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))));
    list.querySelector(".more")?.remove();
    if (ordersCursor) {
      const b = el("button", { type: "button", class: "secondary more" }, "More orders");
      b.addEventListener("click", guard(() => searchOrders(true)));
      list.append(b);
    }
  }
  $("orders-form").addEventListener("submit", guard(() => searchOrders(false)));
  loaders.orders = async () => { if (!$("orders-list").childElementCount) await searchOrders(false); };

  const ACTION_LABEL = { refund: "Refund", deactivate_credits: "Deactivate credits", revoke: "Revoke subscription",
    delete_subscription: "Delete subscription" };
  async function openOrder(id) {
    const d = await C.call("GET", "/admin/orders/" + encodeURIComponent(id));
    const o = d.order;
    const acts = el("div", { class: "actions" });
    for (const a of d.actions.filter((x) => can(x.method, x.route))) {
      const b = el("button", { type: "button", "data-action": a.name }, ACTION_LABEL[a.name] || a.name);
      b.addEventListener("click", () => confirmRow(acts, (ACTION_LABEL[a.name] || a.name) + " order " + o.order_id + "?", async () => {
        const r = await C.call(a.method, a.path);
        notice((ACTION_LABEL[a.name] || a.name) + ": done.");
        await openOrder(id);
        $("order-detail").append(C.report("Result", r));
      }));
      acts.append(b);
    }
    const sub = d.subscription;
    $("order-detail").replaceChildren(el("article", { class: "card", "aria-labelledby": "order-title" },
      el("h3", { id: "order-title", tabindex: "-1" }, "Order ", el("code", {}, o.order_id), " ", el("span", { class: "badge", id: "order-status" }, o.status)),
      el("dl", { class: "facts" },
        el("dt", {}, "Buyer"), el("dd", {}, o.email), el("dt", {}, "Plan"), el("dd", {}, o.product_id),
        el("dt", {}, "Price"), el("dd", {}, money(o.price)), el("dt", {}, "Provider"), el("dd", {}, String(o.provider)),
        el("dt", {}, "Placed"), el("dd", {}, when(o.created_at)), el("dt", {}, "Paid"), el("dd", {}, when(o.paid_at) || "no"),
        o.missing ? el("dt", {}, "Missing") : null, o.missing ? el("dd", {}, o.missing) : null,
        el("dt", {}, "Subscription"), el("dd", {}, sub ? sub.subscription_id + " (" + (sub.ended ? "ended" : "live") + ", until " + when(sub.valid_until) + ")" : "none")),
      acts.childElementCount ? acts : el("p", { class: "note" }, "No action is open to you on this order."),
      el("h4", {}, "Payment events"), C.table(["At", "Event", "Effect"], d.receipts.map((r) => [when(r.received_at), String(r.event_id), String(r.effect)])),
      el("h4", {}, "Ledger"), C.table(["At", "Kind", "File", "Delta"], d.ledger.map((e) => [when(e.at), String(e.kind), e.file || "", String(e.delta)])),
      el("h4", {}, "Credits"), C.table(["Kind", "Amount", "At"], d.credits.map((e) => [String(e.kind), String(e.amount), when(e.at)]))));
    $("order-title").focus();
  }

  // An inline "are you sure" (no modal dialog): confirm or cancel.
  function confirmRow(box, question, run) {
    box.parentNode.querySelector(".confirm")?.remove();
    const yes = el("button", { type: "button" }, "Confirm");
    const no = el("button", { type: "button", class: "secondary" }, "Cancel");
    const row = el("div", { class: "confirm", role: "group", "aria-label": question }, el("span", {}, question), yes, no);
    no.addEventListener("click", () => row.remove());
    yes.addEventListener("click", guard(async () => { await run(); row.remove(); }));
    box.after(row);
    yes.focus();
  }

  // The link's single-use token is read from ?token= and taken out of the
  // URL (and history) at once; it is exchanged with the code on submit.
  async function start() {
    const t = new URLSearchParams(location.search).get("token");
    if (t) {
      linkToken = t;
      history.replaceState(null, "", location.pathname + location.hash);
    }
    if (!C.token()) return signedOut(null);
    try { await signedIn(); } catch (e) { if (e.status !== 401) { signedOut(null); showError(e); } }
  }

  // console-tasks.js adds the other sections' loaders, then starts.
  window.ConsoleParts = { guard, confirmRow, can, notice, loaders, start };
})();
