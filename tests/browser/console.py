"""Drives the staff console (/console) in a real Chromium against a local
stack started here: sign in with a token minted by the binary's `stockroom
token`, see the same counts as GET /admin/stock and a chart, find a paid
order by email and refund it, edit a price (a negative one shows the 400's
detail), download the ledger as CSV, run reconcile, add a webhook endpoint, a customer_service token offered only
what its role allows, the phone layout, and the link + code sign-in form
(over API.md's /auth/staff routes, answered here until they are served).
Any console error, page error or unexpected 4xx/5xx fails the run.

    python tests/browser/console.py BINARY [--shots DIR]

Run by scripts/browser-test.sh after pages.py.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

from pages import ADMIN_EMAIL, CHROMIUM, FLAGS, JWT_SECRET, Stack, get_json, mailed_link, post_json, watch


def mint(binary, role, sub):
    env = dict(os.environ, STOCKROOM_JWT_SECRET=JWT_SECRET, RUST_LOG="error")
    out = subprocess.run([binary, "token", "--role", role, "--sub", sub, "--hours", "1"], env=env,
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def paid_order(url, email):
    """A bronze order paid in full through the sandbox, fulfilled."""
    o = post_json(url + "/checkout", {"email": email, "product_id": "bronze", "provider": "stripe"})
    post_json(url + "/sandbox/pay/" + o["order_id"], {})
    deadline = time.time() + 30
    while True:
        req = urllib.request.Request(url + "/orders/" + o["order_id"])
        req.add_header("authorization", "Bearer " + o["order_token"])
        if json.load(urllib.request.urlopen(req, timeout=5))["status"] == "fulfilled":
            return o["order_id"]
        if time.time() > deadline:
            sys.exit("the sandbox payment was not fulfilled")
        time.sleep(0.2)


def sign_in_with_token(page, url, token):
    page.goto(url + "/console")
    expect(page.locator("#signin")).to_be_visible()
    page.get_by_text("Use a staff token instead").click()
    page.get_by_label("Staff token").fill(token)
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#who")).to_be_visible()


def stock_matches(page, url, admin):
    stock = get_json(url + "/admin/stock", admin)
    for k in ["available", "unused", "reserved", "assigned", "banned", "frozen"]:
        expect(page.locator(f"[data-count={k}]")).to_have_text(str(stock[k]))
    expect(page.locator("#chart svg.chart rect")).not_to_have_count(0)
    expect(page.locator("#days-of-cover")).to_contain_text("days")


def refund_by_email(page, order_id):
    page.get_by_role("link", name="Orders").click()
    page.locator("#orders").get_by_label("Buyer email").fill("ann@example.com")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Open order " + order_id).click()
    expect(page.locator("#order-status")).to_have_text("fulfilled")
    page.locator("#order-detail button[data-action=refund]").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#order-status")).to_have_text("refunded")
    expect(page.locator("#notice")).to_contain_text("Refund: done")


def edit_price(page, url, problems):
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("button", name="Edit bronze").click()
    price = page.get_by_label("Price in minor units")
    before = len(problems)
    price.fill("-500")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error")).to_contain_text("price must be positive")
    # That refusal (400, which the browser also logs) is what was asked for.
    problems[before:] = [p for p in problems[before:] if "status of 400" not in p]
    price.fill("3500")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_contain_text("Saved bronze")
    expect(page.locator("[data-price=bronze]")).to_contain_text("35")
    bronze = [p for p in get_json(url + "/products") if p["id"] == "bronze"][0]
    assert bronze["price"]["amount"] == 3500, bronze


def ledger_csv(page, url, admin):
    page.get_by_role("link", name="Ledger").click()
    expect(page.locator("#ledger-list tbody tr")).not_to_have_count(0)
    # The API's summary is the loaded page's, and the console says so.
    shown = page.locator("#ledger-list tbody tr").count()
    expect(page.locator("#ledger-summary-label")).to_have_text(
        "Summary of this page (the %d entries just loaded)" % shown)
    expect(page.locator("#ledger-summary dt")).not_to_have_count(0)
    with page.expect_download() as d:
        page.get_by_role("button", name="Download CSV").click()
    lines = pathlib.Path(d.value.path()).read_text().strip().splitlines()
    entries = get_json(url + "/admin/ledger?limit=500", admin)["entries"]
    assert lines[0].startswith("id,at,kind,file,delta"), lines[0]
    assert len(lines) == len(entries) + 1, (len(lines), len(entries))


def run_reconcile(page):
    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("button", name="Reconcile").click()
    expect(page.locator("#job-report")).to_contain_text("scanned")


def add_webhook(page, url):
    """An endpoint on this stack's own address (no DNS here; the local
    stack allows private addresses)."""
    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator("#hooks-list")).to_contain_text("No endpoints yet")
    page.get_by_label("URL").fill(url + "/hook-sink")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#hook-secret-value")).to_have_text(re.compile(r"^whsec_"))
    expect(page.locator("#hooks-list tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Deliveries").click()
    expect(page.locator("#deliveries h3")).to_contain_text("/hook-sink")


def role_limits(browser, url, binary, order_id, problems):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = ctx.new_page()
    watch(page, problems)
    sign_in_with_token(page, url, mint(binary, "customer_service", "cs-test"))
    expect(page.locator("#who-text")).to_contain_text("customer_service")
    for hidden in ["Adjust", "Jobs", "Webhooks"]:
        expect(page.get_by_role("link", name=hidden)).to_be_hidden()
    page.get_by_role("link", name="Catalog").click()
    expect(page.locator("#catalog-list tbody tr")).not_to_have_count(0)
    expect(page.get_by_role("button", name="Edit bronze")).to_have_count(0)
    page.get_by_role("link", name="Orders").click()
    page.get_by_role("button", name="Open order " + order_id).click()
    # Paid and fulfilled: an admin could refund it; this role may only revoke.
    expect(page.locator("#order-status")).to_have_text("fulfilled")
    expect(page.locator("#order-detail button[data-action=revoke]")).to_be_visible()
    expect(page.locator("#order-detail button[data-action=refund]")).to_have_count(0)
    expect(page.locator("#order-detail button[data-action=delete_subscription]")).to_have_count(0)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the console scrolls sideways on a phone: {width}"
    ctx.close()


def totp(secret, at):
    """RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def open_mailed_link(page, stack):
    """Asks for a link on the page and opens the one the SMTP server got."""
    since = len(stack.inbox.mails)
    page.goto(stack.url + "/console")
    page.get_by_label("Staff email").fill(ADMIN_EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("#link-sent")).to_be_visible()
    page.goto(mailed_link(stack, ADMIN_EMAIL, "console", since))
    assert "token=" not in page.url, page.url


def link_and_code(browser, stack, shots, problems):
    """The first admin (STOCKROOM_ADMIN_EMAIL) signs in from a mailed link,
    sets up an authenticator app on the Staff tab, signs out (the session
    ends on the server), and signs in again with a link and a code: the code
    that turned the app on is refused as a replay, the next one works."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 700})
    page = ctx.new_page()
    watch(page, problems)
    open_mailed_link(page, stack)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-text")).to_contain_text(ADMIN_EMAIL + " · admin")

    page.get_by_role("link", name="Staff").click()
    row = page.locator("#staff-list tbody tr", has_text=ADMIN_EMAIL)
    expect(row.locator("td").nth(2)).to_have_text("off")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(8)
    secret = page.locator("#totp-secret").inner_text()
    first = totp(secret, time.time())
    page.get_by_label("First code from the app").fill(first)
    page.get_by_role("button", name="Turn it on").click()
    expect(page.locator("#notice")).to_contain_text("second factor on")
    expect(row.locator("td").nth(2)).to_have_text("on")
    page.screenshot(path=str(shots / "console-staff.png"), full_page=True)

    session = json.loads(page.evaluate("() => sessionStorage.getItem('stockroom.staff')"))["token"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin")).to_be_visible()
    try:
        get_json(stack.url + "/admin/me", session)
        raise AssertionError("a signed-out session still works")
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code

    open_mailed_link(page, stack)
    before = len(problems)
    page.get_by_label("Code from your authenticator app").fill(first)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#error")).to_contain_text(re.compile("used already|does not match"))
    expect(page.locator("#who")).to_be_hidden()
    # That refusal (401, which the browser also logs) is what was asked for.
    problems[before:] = [p for p in problems[before:] if "status of 401" not in p]

    open_mailed_link(page, stack)  # a refused code spends its link too
    page.get_by_label("Code from your authenticator app").fill(totp(secret, time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-text")).to_contain_text(ADMIN_EMAIL + " · admin")
    ctx.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--shots", default="docs")
    args = ap.parse_args()
    shots = pathlib.Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    started = time.time()
    stack = Stack(args.binary)
    problems = []
    ok = False
    try:
        order_id = paid_order(stack.url, "ann@example.com")
        bobs = paid_order(stack.url, "bob@example.com")
        admin = mint(args.binary, "admin", "console-test")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            ctx = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
            page = ctx.new_page()
            watch(page, problems)
            sign_in_with_token(page, stack.url, admin)
            expect(page.locator("#who-text")).to_contain_text("console-test · admin")
            stock_matches(page, stack.url, admin)
            page.screenshot(path=str(shots / "console.png"), full_page=True)
            refund_by_email(page, order_id)
            edit_price(page, stack.url, problems)
            ledger_csv(page, stack.url, admin)
            run_reconcile(page)
            add_webhook(page, stack.url)
            role_limits(browser, stack.url, args.binary, bobs, problems)
            link_and_code(browser, stack, shots, problems)
            browser.close()
        assert get_json(stack.url + "/admin/orders/" + order_id, admin)["order"]["status"] == "refunded"
        assert not problems, "\n".join(problems)
        ok = True
    finally:
        stack.stop()
        if not ok:
            print("--- local stack log (tail)\n" + stack.tail(), file=sys.stderr)
    print(f"browser: console (token sign-in, stock, refund, price edit, CSV, reconcile, webhook, roles, mailed link + TOTP): ok in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
