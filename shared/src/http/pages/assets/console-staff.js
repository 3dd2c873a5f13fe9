// The console's staff section: one's own second factor (an authenticator
// app: QR code, key, recovery codes, then a first code to turn it on) and,
// for admins, the staff accounts (add, change role, disable, remove).
"use strict";

(() => {
  const { el, when } = Stockroom;
  const C = Console;
  const { guard, confirmRow, can, notice, loaders } = ConsoleParts;
  const $ = (id) => document.getElementById(id);
  const ROLES = ["customer_service", "inventory_manager", "admin"];

  // The server draws the QR code (the secret never goes into a URL); it
  // holds only rectangles, parsed as SVG and checked to be one.
  function svgOf(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (svg.nodeName !== "svg" || svg.querySelector("script, foreignObject")) return el("span", {}, "");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "QR code for your authenticator app");
    svg.setAttribute("class", "qr");
    return document.importNode(svg, true);
  }

  $("totp-start").addEventListener("click", guard(async () => {
    // Replacing an app that is on takes a code of it (or a recovery code).
    const current = $("totp-current").value.trim();
    const e = await C.call("POST", "/admin/staff/me/totp", current ? { code: current } : undefined);
    $("totp-current").value = "";
    $("totp-setup").replaceChildren(
      svgOf(e.otpauth_qr_svg),
      el("p", {}, "Scan it, or type this key into the app: ", el("code", { id: "totp-secret" }, e.secret)),
      el("p", {}, "Recovery codes: each works once in place of a code. Keep them somewhere safe; they are shown only now."),
      el("ul", { id: "recovery-codes" }, ...e.recovery_codes.map((c) => el("li", {}, el("code", {}, c)))));
    $("totp-confirm-form").hidden = false;
    $("totp-code").focus();
  }));

  $("totp-confirm-form").addEventListener("submit", guard(async () => {
    const code = $("totp-code").value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) throw new Error("Enter the six-digit code the app shows.");
    const r = await C.call("POST", "/admin/staff/me/totp/confirm", { code });
    $("totp-code").value = "";
    $("totp-confirm-form").hidden = true;
    $("totp-setup").replaceChildren();
    await showStaff();
    notice(r.detail);
  }));

  async function save(body, done) {
    await C.call("POST", "/admin/staff", body);
    await showStaff();
    notice(done);
  }

  function actions(s) {
    const box = el("span", { class: "row-actions" });
    if (can("POST", "/admin/staff")) {
      const role = el("select", { "aria-label": "Role of " + s.email }, ...ROLES.map((r) => el("option", { value: r }, r)));
      role.value = s.role;
      role.addEventListener("change", guard(() =>
        save({ email: s.email, role: role.value, disabled: s.disabled }, s.email + " is now " + role.value + ".")));
      const toggle = el("button", { type: "button", class: "secondary" }, s.disabled ? "Enable" : "Disable");
      toggle.addEventListener("click", guard(() =>
        save({ email: s.email, role: s.role, disabled: !s.disabled }, s.email + (s.disabled ? " enabled." : " disabled."))));
      box.append(role, toggle);
    }
    if (can("DELETE", "/admin/staff/{email}")) {
      const remove = el("button", { type: "button", class: "secondary" }, "Remove");
      remove.addEventListener("click", () => confirmRow($("staff-list"), "Remove " + s.email + "?", async () => {
        await C.call("DELETE", "/admin/staff/" + encodeURIComponent(s.email));
        await showStaff();
        notice(s.email + " removed; their sessions have ended.");
      }));
      box.append(remove);
    }
    return box;
  }

  async function showStaff() {
    if (!can("GET", "/admin/staff")) return;
    const list = await C.call("GET", "/admin/staff");
    $("staff-list").replaceChildren(C.table(["Email", "Role", "Second factor", "State", "Added", ""],
      list.staff.map((s) => [s.email, s.role, s.totp ? "on" : "off", s.disabled ? "disabled" : "active",
        when(s.created_at) + " by " + s.created_by, actions(s)])));
  }

  $("staff-form").addEventListener("submit", guard(async () => {
    const email = $("staff-email").value.trim();
    if (!email || !$("staff-email").checkValidity()) throw new Error("Please enter a valid email address.");
    await save({ email, role: $("staff-role").value, disabled: false }, email + " added; they can sign in by link.");
    $("staff-email").value = "";
  }));

  loaders.staff = showStaff;
})();
