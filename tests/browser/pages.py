"""Drives the buyer's pages in a real Chromium (the system one, through
playwright) against a local stack started here: /shop through two whole
purchases with the sandbox provider until delivered (one by keyboard, one
by a double click), a reload that resumes the order from the URL fragment,
a refusal's problem detail, the phone layout, and /account: its sign-in
form, a refused link token, then a sign-in from the link in the mail an
SMTP server (aiosmtpd) received, /me, a bad file reported and replaced, and a renewal.
Any console error, page error or unexpected 4xx/5xx fails the run.
Screenshots go to docs/.

    python tests/browser/pages.py BINARY [--shots DIR]

Run by scripts/browser-test.sh, which builds BINARY and installs Chromium.
"""

import argparse
import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from aiosmtpd.controller import Controller
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("STOCKROOM_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
JWT_SECRET = "browser-test-jwt-secret"
ADMIN_EMAIL = "ops@example.com"  # the first admin, seeded at start
STOCK = 4  # bronze x2 fits; diamond (6 files) and the bigger plans are sold out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def staff_token():
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "browser-test", "role": "admin", "iat": now, "exp": now + 600}).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def get_json(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    return json.load(urllib.request.urlopen(req, timeout=5))


class Inbox:
    """A real SMTP server (aiosmtpd) the stack sends its mail to."""

    def __init__(self):
        self.mails = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def stop(self):
        self.controller.stop()


class Stack:
    """The local stack on a free port with a fresh data directory and stock,
    mailing through an SMTP server of its own."""

    def __init__(self, binary):
        self.inbox = Inbox()
        self.dir = tempfile.TemporaryDirectory(prefix="stockroom-browser-")
        data = pathlib.Path(self.dir.name) / "data"
        (data / "files" / "unused").mkdir(parents=True)
        for i in range(STOCK):
            (data / "files" / "unused" / f"acct-{i}.session").write_text(f"account {i}\n")
        self.data = data
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, PORT=str(port), STOCKROOM_DATA=str(data), STOCKROOM_PUBLIC_URL=self.url,
                   STOCKROOM_JWT_SECRET=JWT_SECRET, STOCKROOM_SMTP_URL=f"smtp://127.0.0.1:{self.inbox.port}",
                   STOCKROOM_ADMIN_EMAIL=ADMIN_EMAIL,
                   RUST_LOG="error")
        self.log = open(pathlib.Path(self.dir.name) / "stack.log", "w")
        self.proc = subprocess.Popen([binary], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                get_json(self.url + "/products")
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    sys.exit("the local stack did not start")
                time.sleep(0.1)

    def stop(self):
        self.inbox.stop()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def tail(self):
        return (pathlib.Path(self.dir.name) / "stack.log").read_text()[-3000:]


def watch(page, problems):
    page.on("response", lambda r: r.status >= 400 and problems.append(f"status of {r.status}: {r.request.method} {r.url}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text} ({page.url})"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e} ({page.url})"))


def buy_by_keyboard(page, url, shots):
    page.goto(url + "/shop")
    bronze = page.locator("li[data-product=bronze] button")
    expect(bronze).to_be_enabled()
    # Sold out is shown and not buyable.
    diamond = page.locator("li[data-product=diamond] button")
    expect(diamond).to_be_disabled()
    expect(diamond).to_have_text("Sold out")
    page.screenshot(path=str(shots / "shop.png"), full_page=True)
    bronze.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your email")).to_be_focused()
    page.keyboard.type("ann@example.com")
    page.get_by_label("Coin").select_option("btc")
    page.get_by_label("Your email").focus()
    page.keyboard.press("Enter")
    address = page.locator("#pay-address")
    expect(address).to_have_text(re.compile(r"\S"))
    expect(page.locator("#pay-amount")).to_contain_text("BTC")
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('img.qr'); return i.complete && i.naturalWidth > 0 }")
    assert "#order=" in page.url and "&token=" in page.url, page.url
    page.screenshot(path=str(shots / "shop-pay.png"), full_page=True)
    page.get_by_role("button", name="Pay with the sandbox").click()
    expect(page.locator("body")).to_have_attribute("data-status", "fulfilled", timeout=30_000)
    expect(page.locator("#delivery .files li")).to_have_count(1)
    page.screenshot(path=str(shots / "shop-delivered.png"), full_page=True)
    # A reload (or the mailed link) resumes the order from the fragment.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-status", "fulfilled", timeout=10_000)
    expect(page.locator("#catalog")).to_be_hidden()
    return page.locator("#delivery .files li code").all_inner_texts()


def buy_by_double_click(page, url):
    checkouts = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/checkout") and checkouts.append(r))
    page.goto(url + "/shop")
    page.locator("li[data-product=bronze] button").click()
    page.get_by_label("Your email").fill("bob@example.com")
    page.get_by_label("Card (Stripe)").check()
    expect(page.get_by_label("Coin")).to_be_hidden()
    page.get_by_role("button", name="Place order").dblclick()
    expect(page.locator("#status-text")).to_contain_text("Waiting for your payment", timeout=10_000)
    order_url = page.url
    # Back from Stripe Checkout (its success URL, /shop#paid, carries nothing
    # of ours): the tab resumes the order it placed.
    page.goto(url + "/shop")
    page.goto(url + "/shop#paid")
    expect(page).to_have_url(order_url)
    expect(page.locator("#status-text")).to_contain_text("Waiting for your payment")
    page.get_by_role("button", name="Pay with the sandbox").click()
    expect(page.locator("body")).to_have_attribute("data-status", "fulfilled", timeout=30_000)
    return len(checkouts), page.locator("#delivery .files li code").all_inner_texts()


def post_json(url, body, token=None):
    req = urllib.request.Request(url, method="POST", data=json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    return json.load(urllib.request.urlopen(req, timeout=30))


def refusals_show_the_problem_detail(page, url):
    """Silver is in stock when the page loads; another buyer takes the last
    files before this one clicks: the 409's detail is shown."""
    page.goto(url + "/shop")
    page.locator("li[data-product=silver] button").click()
    page.get_by_label("Your email").fill("dan@example.com")
    post_json(url + "/checkout", {"email": "carol@example.com", "product_id": "silver", "provider": "stripe"})
    page.get_by_role("button", name="Place order").click()
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("sold out while you were choosing (only 0 available, 2 needed)")
    expect(page.locator("li[data-product=silver] button")).to_have_text("Sold out")
    # A bad email is caught on the page, before any request.
    page.get_by_label("Your email").fill("not-an-email")
    page.get_by_role("button", name="Place order").click()
    expect(error).to_contain_text("valid email")


def phone_layout(browser, url, problems):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=1, is_mobile=True)
    page = ctx.new_page()
    watch(page, problems)
    page.goto(url + "/shop")
    expect(page.locator("li[data-product=bronze] button")).to_be_visible()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the shop scrolls sideways on a phone: {width}"
    ctx.close()


def account_page(page, url, problems):
    # A link's token is read from ?token=, taken out of the URL at once, and a
    # refused one is said so. (401 once /auth/session is served; 404 before.)
    before = len(problems)
    page.goto(url + "/account?token=not-a-real-token")
    expect(page.locator("#error")).to_be_visible()
    assert "token=" not in page.url, page.url
    refused = lambda p: "/auth/session" in p or (p.startswith("console: Failed to load resource") and
                                                  ("status of 401" in p or "status of 404" in p))
    problems[before:] = [p for p in problems[before:] if not refused(p)]
    page.goto(url + "/account")
    expect(page.get_by_label("Your email")).to_be_visible()
    expect(page.get_by_role("button", name="Email me a sign-in link")).to_be_enabled()


def mailed_link(stack, to, page="account", since=0):
    """The sign-in link to `/{page}` in the newest mail the SMTP server got
    for `to`, among those after the first `since`."""
    deadline = time.time() + 10
    while time.time() < deadline:
        for rcpts, raw in reversed(list(stack.inbox.mails)[since:]):
            if to not in rcpts:
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            text = msg.get_body(preferencelist=("plain",)).get_content()
            found = re.search(rf"(http://\S+/{page}\?token=[A-Za-z0-9_-]+)", text)
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no sign-in mail reached {to}")


def account_signed_in_from_a_real_mail(browser, stack, shots, problems):
    """/account for a buyer of the purchase above, against the stack's own
    routes: a link asked for on the page and read out of the mail the SMTP
    server received, /me rendered, a bad file reported and replaced from stock, a
    renewal checked out with the session and followed on /shop."""
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    page = ctx.new_page()
    watch(page, problems)
    page.goto(stack.url + "/account")
    page.get_by_label("Your email").fill("ann@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("#sent")).to_be_visible()
    page.goto(mailed_link(stack, "ann@example.com"))
    expect(page.locator("#me-email")).to_have_text("ann@example.com")
    assert "token=" not in page.url, page.url
    card = page.locator("[data-subscription]")
    expect(card).to_have_count(1)
    expect(card.locator(".files li")).to_have_count(1)
    old = card.locator(".files li").first.inner_text().strip()
    expect(page.locator("#orders tbody tr")).to_have_count(1)
    page.screenshot(path=str(shots / "account.png"), full_page=True)

    # Open checkouts hold what is left: one more file comes in for the swap.
    (stack.data / "files" / "unused" / "acct-spare.session").write_text("spare\n")
    post_json(stack.url + "/admin/reconcile", {}, staff_token())
    card.get_by_label("File that does not work").select_option(old)
    card.get_by_label("What is wrong").fill("banned by the network")
    card.get_by_role("button", name="Report a bad file").click()
    expect(page.locator("#notice")).to_contain_text(f"{old} is now ")
    new = page.locator("#notice").inner_text().split(" is now ")[1].rstrip(". ")
    expect(card.locator(".files li")).to_have_text([new])
    assert (stack.data / "files" / "banned" / old).exists(), "the reported file went to banned/"

    card.get_by_label("Renew with").select_option("nowpayments")
    card.get_by_role("button", name="Renew").click()
    expect(page.locator("#pay-address")).to_be_visible()
    ctx.close()
    return old, new


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
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            ctx = browser.new_context(viewport={"width": 1000, "height": 800})
            page = ctx.new_page()
            watch(page, problems)
            ann = buy_by_keyboard(page, stack.url, shots)
            count, bob = buy_by_double_click(page, stack.url)
            assert count <= 2, f"{count} checkout requests for one double click"
            before = len(problems)
            refusals_show_the_problem_detail(page, stack.url)
            # That step's refused checkout (409, which the browser also logs) is expected.
            problems[before:] = [p for p in problems[before:] if "status of 409" not in p]
            phone_layout(browser, stack.url, problems)
            account_page(page, stack.url, problems)
            old, new = account_signed_in_from_a_real_mail(browser, stack, shots, problems)
            browser.close()
        # One order per buyer, whatever the double click did: 2 files out
        # (ann's reported one swapped for a fresh one), one banned, and only
        # carol's silver (2 files) held.
        stock = get_json(stack.url + "/admin/stock", staff_token())
        assert (stock["assigned"], stock["banned"], stock["reserved"]) == (2, 1, 2), stock
        on_disk = sorted(p.name for p in (stack.data / "files" / "assigned").rglob("*.session"))
        kept = [f for f in ann if f != old] + [new]
        assert sorted(kept + bob) == on_disk, (ann, bob, on_disk)
        assert not problems, "\n".join(problems)
        ok = True
    finally:
        stack.stop()
        if not ok:
            print("--- local stack log (tail)\n" + stack.tail(), file=sys.stderr)
    print(f"browser: shop purchases, reload, phone layout, account page (sign-in, /me, report, renew): ok in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
