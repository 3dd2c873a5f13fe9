// The console's other sections: ledger (and its CSV), stock adjustments,
// the jobs, credits, the catalog editor and merchant webhooks. Each action
// is one API call; a refusal shows the problem's detail.
"use strict";

(() => {
  const { el, money, when } = Stockroom;
  const C = Console;
  const { guard, confirmRow, can, notice, loaders, start } = ConsoleParts;
  const $ = (id) => document.getElementById(id);

  // ---- ledger -----------------------------------------------------------
  const ledgerFilters = () => ({ kind: $("ledger-kind").value.replace(/\s/g, ""), file: $("ledger-file").value.trim(),
    reference: $("ledger-reference").value.trim(), since: C.dayBound($("ledger-since").value),
    until: C.dayBound($("ledger-until").value, true) });
  let ledgerCursor = null;
  async function showLedger(more) {
    // The API's summary covers the entries of the page just fetched, not the whole filter.
    const page = await C.call("GET", "/admin/ledger" + C.query({ ...ledgerFilters(), limit: 100, cursor: more ? ledgerCursor : "" }));
    ledgerCursor = page.next_cursor;
    $("ledger-summary-label").textContent = "Summary of this page (the " + page.entries.length + " entries just loaded)";
    $("ledger-summary").replaceChildren(...Object.entries(page.summary || {}).flatMap(([k, v]) =>
      [el("dt", {}, k), el("dd", {}, typeof v === "object" ? Object.entries(v).map(([a, b]) => a + " " + b).join(", ") : String(v))]));
    const rows = page.entries.map((e) => [when(e.at), e.kind, e.file || "", String(e.delta), e.before + " → " + e.after, e.reason, e.reference, e.actor]);
    if (!more) $("ledger-list").replaceChildren(C.table(["At", "Kind", "File", "Delta", "Available", "Reason", "Reference", "Actor"], rows));
    else $("ledger-list").querySelector("tbody").append(...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))));
    $("ledger-list").querySelector(".more")?.remove();
    if (ledgerCursor) {
      const b = el("button", { type: "button", class: "secondary more" }, "More entries");
      b.addEventListener("click", guard(() => showLedger(true)));
      $("ledger-list").append(b);
    }
  }
  $("ledger-form").addEventListener("submit", guard(() => showLedger(false)));
  $("ledger-csv").addEventListener("click", guard(async () => {
    const { csv, complete } = await C.ledgerCsv(ledgerFilters(), 200);
    C.download("ledger.csv", csv, "text/csv");
    notice(complete ? "Ledger downloaded." : "Ledger downloaded: the first 100,000 entries; narrow the dates for the rest.");
  }));
  loaders.ledger = () => showLedger(false);

  // ---- adjustments ------------------------------------------------------
  $("adjust-form").addEventListener("submit", guard(async () => {
    const files = $("adjust-files").value.split(/\s+/).filter(Boolean);
    const r = await C.call("POST", "/admin/stock/adjust", { action: $("adjust-action").value, files, reason: $("adjust-reason").value.trim() });
    $("adjust-result").replaceChildren(C.table(["File", "Outcome", "Detail"],
      r.results.map((x) => [x.file, String(x.outcome), x.detail || x.replacement || ""]), "Done: " + r.action));
  }));

  // ---- jobs -------------------------------------------------------------
  for (const b of document.querySelectorAll("[data-job]")) {
    b.addEventListener("click", guard(async () => {
      const r = await C.call("POST", b.dataset.job);
      $("job-report").replaceChildren(C.report(b.textContent + " report", r));
    }));
  }

  // ---- credits ----------------------------------------------------------
  async function showCredits(email) {
    const v = await C.call("GET", "/admin/customers/" + encodeURIComponent(email) + "/credits");
    const rows = v.entries.map((e) => {
      const gift = [e.id, e.reference].find((x) => /^G/.test(x || ""));
      let act = "";
      if (e.kind === "gift" && gift && can("POST", "/admin/credits/gifts/{id}/deactivate")) {
        act = el("button", { type: "button", class: "secondary" }, "Deactivate");
        act.addEventListener("click", () => confirmRow($("credits-view"), "Deactivate gift " + gift + "?", async () => {
          await C.call("POST", "/admin/credits/gifts/" + encodeURIComponent(gift) + "/deactivate");
          await showCredits(email);
          notice("Gift deactivated.");
        }));
      }
      return [String(e.kind), String(e.amount), e.reference, when(e.at), e.actor, act];
    });
    $("credits-view").replaceChildren(el("dl", { class: "facts" },
      ...["spendable", "posted", "pending_in", "pending_out"].flatMap((k) => [el("dt", {}, k), el("dd", { "data-credits": k }, String(v[k]))])),
      C.table(["Kind", "Amount", "Reference", "At", "Actor", ""], rows, "Credits of " + v.email));
  }
  $("credits-form").addEventListener("submit", guard(() => showCredits($("credits-email").value.trim())));
  $("gift-form").addEventListener("submit", guard(async () => {
    const email = $("gift-email").value.trim();
    const amount = Number($("gift-amount").value);
    if (!Number.isInteger(amount)) throw new Error("Credits are whole numbers.");
    const r = await C.call("POST", "/admin/credits/gifts", { email, amount, reason: $("gift-reason").value.trim() });
    notice("Gifted " + r.amount + " credits to " + r.email + " (gift " + r.id + ").");
    if (can("GET", "/admin/customers/{email}/credits")) await showCredits(email);
  }));

  // ---- catalog ----------------------------------------------------------
  let products = [];
  async function showCatalog() {
    products = await C.call("GET", "/admin/products");
    const mayEdit = can("PUT", "/admin/products/{id}");
    $("catalog-list").replaceChildren(C.table(["Id", "Name", "Tier", "Price", "Files", "Interval", "Days", "Sold", ""],
      products.map((p) => {
        let edit = "";
        if (mayEdit) {
          edit = el("button", { type: "button", class: "secondary", "aria-label": "Edit " + p.id }, "Edit");
          edit.addEventListener("click", () => editor(p));
        }
        return [el("code", {}, p.id), p.name, p.tier, el("span", { "data-price": p.id }, money(p.price)), String(p.files),
          String(p.interval_seconds) + " s", String(p.validity_days), p.retired ? (p.renewable ? "retired (renewable)" : "retired") : "yes", edit];
      })));
  }
  loaders.catalog = showCatalog;
  $("product-new").addEventListener("click", () => editor(null));

  function field(id, label, input) {
    input.id = id;
    return [el("label", { for: id }, label), input];
  }
  function editor(p) {
    const isNew = !p;
    p = p || { id: "", name: "", tier: "starter", price: { amount: 0, currency: "USD" }, files: 1, interval_seconds: 3600, validity_days: 30, retired: false, renewable: true };
    const num = (v) => el("input", { type: "number", step: 1, value: v, required: true });
    const tier = el("select", {}, ...["starter", "enterprise"].map((t) => el("option", { value: t, selected: t === p.tier }, t)));
    const retired = el("input", { type: "checkbox", checked: p.retired });
    const renewable = el("input", { type: "checkbox", checked: p.renewable });
    const form = el("form", { class: "card", "aria-label": isNew ? "New product" : "Edit " + p.id },
      el("h3", {}, isNew ? "New product" : "Edit " + p.id),
      ...(isNew ? field("p-id", "Id (lower-case letters, digits, -)", el("input", { type: "text", required: true })) : []),
      ...field("p-name", "Name", el("input", { type: "text", value: p.name, required: true })),
      ...field("p-tier", "Tier", tier),
      ...field("p-amount", "Price in minor units (5500 = 55.00)", num(p.price.amount)),
      ...field("p-currency", "Currency", el("input", { type: "text", value: p.price.currency, maxlength: 3, required: true })),
      ...field("p-files", "Files", num(p.files)),
      ...field("p-interval", "Posting interval (seconds)", num(p.interval_seconds)),
      ...field("p-validity", "Validity (days)", num(p.validity_days)),
      el("label", {}, retired, " Retired (no longer sold)"),
      el("label", {}, renewable, " Renewable when retired"),
      el("div", { class: "actions" }, el("button", { type: "submit" }, "Save"), el("button", { type: "button", class: "secondary", "data-cancel": "" }, "Cancel")));
    form.querySelector("[data-cancel]").addEventListener("click", () => form.remove());
    form.addEventListener("submit", guard(async () => {
      const int = (id, what) => {
        const v = $(id).value.trim();
        if (!/^-?\d+$/.test(v)) throw new Error(what + " must be a whole number.");
        return Number(v);
      };
      const id = isNew ? $("p-id").value.trim() : p.id;
      const body = { ...p, id, name: $("p-name").value.trim(), tier: tier.value,
        price: { amount: int("p-amount", "The price"), currency: $("p-currency").value.trim().toUpperCase() },
        files: int("p-files", "Files"), interval_seconds: int("p-interval", "The interval"),
        validity_days: int("p-validity", "Validity"), retired: retired.checked, renewable: renewable.checked };
      const saved = await C.call("PUT", "/admin/products/" + encodeURIComponent(id), body);
      notice("Saved " + saved.id + ": " + money(saved.price) + ".");
      form.remove();
      await showCatalog();
    }));
    $("product-editor").replaceChildren(form);
    form.querySelector("input").focus();
  }

  // ---- webhooks ---------------------------------------------------------
  async function showHooks() {
    const { endpoints } = await C.call("GET", "/admin/webhooks");
    const button = (label, cls, fn) => { const b = el("button", { type: "button", class: cls }, label); b.addEventListener("click", fn); return b; };
    const box = $("hooks-list");
    box.replaceChildren(endpoints.length ? C.table(["URL", "Events", "State", ""], endpoints.map((e) => [
      e.url, e.events.join(", "), e.enabled ? (e.failing_since ? "failing since " + when(e.failing_since) : "enabled") : "disabled: " + (e.disabled_reason || ""),
      el("div", { class: "actions" },
        button("Deliveries", "secondary", guard(() => deliveries(e))),
        can("POST", "/admin/webhooks/{id}/test") ? button("Test", "secondary", guard(async () => {
          const d = await C.call("POST", "/admin/webhooks/" + e.id + "/test");
          notice("Test event " + d.event_id + ": " + d.status + ".");
          await deliveries(e);
        })) : null,
        can("POST", "/admin/webhooks/{id}/rotate") ? button("Rotate secret", "secondary", () => confirmRow(box, "Rotate the secret of " + e.url + "?", async () => {
          showSecret((await C.call("POST", "/admin/webhooks/" + e.id + "/rotate")).secret, "The old secret keeps signing beside it for 24 h.");
        })) : null,
        can("DELETE", "/admin/webhooks/{id}") ? button("Delete", "secondary", () => confirmRow(box, "Delete the endpoint " + e.url + "?", async () => {
          await C.call("DELETE", "/admin/webhooks/" + e.id);
          await showHooks();
        })) : null)])) : el("p", { class: "note" }, "No endpoints yet."));
  }
  function showSecret(secret, note) {
    $("hook-secret").replaceChildren(el("div", { class: "card" }, el("p", {}, "Signing secret (shown only now): "),
      el("code", { id: "hook-secret-value" }, secret), el("p", { class: "note" }, note)));
  }
  async function deliveries(e) {
    const page = await C.call("GET", "/admin/webhooks/" + e.id + "/deliveries?limit=50");
    const resend = (d) => {
      if (!can("POST", "/admin/events/{id}/resend")) return "";
      const b = el("button", { type: "button", class: "secondary", "aria-label": "Resend " + d.event_id }, "Resend");
      b.addEventListener("click", guard(async () => {
        await C.call("POST", "/admin/events/" + encodeURIComponent(d.event_id) + "/resend");
        notice("Event " + d.event_id + " queued again.");
      }));
      return b;
    };
    $("deliveries").replaceChildren(el("h3", {}, "Deliveries to " + e.url), C.table(["Event", "Type", "Status", "Tries", "Next attempt", "Note", ""],
      page.deliveries.map((d) => [el("code", {}, d.event_id), d.type, String(d.status), String(d.tries), when(d.next_attempt), d.note || "", resend(d)])));
  }
  $("hook-form").addEventListener("submit", guard(async () => {
    const events = $("hook-events").value.split(",").map((s) => s.trim()).filter(Boolean);
    const r = await C.call("POST", "/admin/webhooks", { url: $("hook-url").value.trim(), events });
    showSecret(r.secret, "Keep it where your receiver verifies signatures.");
    await showHooks();
  }));
  loaders.webhooks = showHooks;

  start();
})();
