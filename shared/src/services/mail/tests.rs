use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::*;
use crate::adapters::embedded::open_embedded;
use crate::adapters::mail::{FilesMailer, SmtpMailer};
use crate::ports::clock::OffsetClock;
use crate::ports::{Mail, MailError, Mailer};
use crate::testkit::smtp::SmtpCatcher;
use crate::testkit::stack::local_ctx;

const FROM: &str = "Shop <shop@example.com>";
const STAFF: [&str; 2] = ["ops@example.com", "stock@example.com"];
const ORDER_URL: &str = "https://shop.example/orders/o1?token=t0k&x=1";
const RENEW_URL: &str = "https://shop.example/account/renew/S1?token=r3n";

fn ctx(dir: &std::path::Path) -> (Ctx, Arc<OffsetClock>) {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).expect("embedded backend");
    let mut ctx =
        local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
    ctx.settings.staff_email = STAFF.iter().map(|s| s.to_string()).collect();
    (ctx, clock)
}

fn event(id: &str, kind: &str, data: Value) -> Envelope {
    Envelope { id: id.into(), kind: kind.into(), timestamp: "2026-12-03T22:19:00Z".into(), data }
}

/// A sample of every event that causes mail, and facts its mail must show
/// in both the text and the HTML (as the HTML escapes them).
fn samples() -> Vec<(Envelope, Vec<&'static str>)> {
    let buyer = "buyer@example.com";
    vec![
        (
            event(
                "e1",
                "order.paid",
                json!({"order_id": "o1", "email": buyer, "product_id": "gold", "amount": "12.50", "currency": "usd", "order_url": ORDER_URL}),
            ),
            vec!["o1", "gold", "12.50 USD", ORDER_URL],
        ),
        (
            event(
                "e2",
                "order.partially_paid",
                json!({"order_id": "o1", "email": buyer, "missing": "0.0002 btc", "reserved_until": "2026-12-04T10:05:00Z", "order_url": ORDER_URL}),
            ),
            vec!["0.0002 btc", "4 Dec 2026, 10:05 UTC", ORDER_URL],
        ),
        (
            event(
                "e3",
                "order.fulfilled",
                json!({"order_id": "o1", "email": buyer, "subscription_id": "S1", "files": ["a1.session", "a2.session"], "valid_until": "2027-01-02T00:00:00Z", "order_url": ORDER_URL}),
            ),
            vec!["o1", "S1", "a1.session", "a2.session", "2 Jan 2027, 00:00 UTC", ORDER_URL],
        ),
        (
            event("e4", "order.link_requested", json!({"order_id": "o1", "email": buyer, "order_url": ORDER_URL})),
            vec!["o1", ORDER_URL],
        ),
        (
            event(
                "e5",
                "subscription.expiring_soon",
                json!({"subscription_id": "S1", "email": buyer, "valid_until": "2027-01-02T00:00:00Z", "hours_left": 72, "renew_url": RENEW_URL}),
            ),
            vec!["S1", "72 hours", "2 Jan 2027", RENEW_URL],
        ),
        (
            event(
                "e6",
                "subscription.grace_started",
                json!({"subscription_id": "S1", "email": buyer, "valid_until": "2027-01-02T00:00:00Z", "files_return_at": "2027-01-03T00:00:00Z", "renew_url": RENEW_URL}),
            ),
            vec!["S1", "3 Jan 2027", RENEW_URL],
        ),
        (
            event(
                "e7",
                "subscription.ended",
                json!({"subscription_id": "S1", "email": buyer, "reason": "expired", "files": ["a1.session"]}),
            ),
            vec!["S1", "expired", "a1.session"],
        ),
        (
            event(
                "e8",
                "subscription.file_replaced",
                json!({"subscription_id": "S1", "email": buyer, "file": "a1.session", "replacement": "b7.session", "reason": "banned by the platform"}),
            ),
            vec!["S1", "a1.session", "b7.session", "banned by the platform"],
        ),
        (
            event(
                "e9",
                "stock.low",
                json!({"product_id": "gold", "available": 3, "threshold": 5, "days_of_cover": 1.5}),
            ),
            vec!["gold", "3", "5", "1.5 days"],
        ),
        (
            event("e10", "stock.sold_out", json!({"product_id": "gold", "days_of_cover": 0})),
            vec!["gold", "sold out", "cover at the recent sales rate: 0"],
        ),
        (
            event(
                "e11",
                "order.backordered",
                json!({"order_id": "o2", "email": buyer, "product_id": "gold", "files": 2}),
            ),
            vec!["o2", "gold", "2 files"],
        ),
        (
            event(
                "e12",
                "ops.alert",
                json!({"kind": "invariant_violation", "message": "2 files have <two> owners & more", "details": {"file": "a1.session", "job": "reconcile"}}),
            ),
            vec!["invariant violation", "2 files have <two> owners & more", "a1.session", "reconcile"],
        ),
        (
            event(
                "e13",
                "stock.lost",
                json!({"file": "a9.session", "location": "assigned", "user_id": "u1", "order_id": "o9"}),
            ),
            vec!["a9.session", "no copy anywhere", "o9"],
        ),
        (
            event(
                "e14",
                "stock.ghost",
                json!({"file": "a9.session", "user_id": "u1", "order_id": "o9", "now_at": "unused/a9.session"}),
            ),
            vec!["a9.session", "was found at", "o9"],
        ),
    ]
}

/// Each mail's event as the code makes it (not a hand-written sample):
/// every rule's templates render the real data shape.
#[test]
fn every_rule_renders_the_events_the_code_records() {
    let events = crate::services::events::examples();
    let mut covered = std::collections::HashSet::new();
    for e in &events {
        let v = serde_json::to_value(e).unwrap();
        let mut data = v["data"].clone();
        data["order_url"] = json!(ORDER_URL);
        data["renew_url"] = json!(RENEW_URL);
        for rule in rules::for_event(&e.kind()) {
            render(rule.template, &data, rule.to.as_str()).unwrap_or_else(|err| panic!("{}: {err}", e.kind()));
            covered.insert(rule.event);
        }
    }
    let all: std::collections::HashSet<_> = RULES.iter().map(|r| r.event).collect();
    assert_eq!(covered, all, "an event per rule");
}

/// What minijinja's autoescape makes of a fact in HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('/', "&#x2f;")
}

#[test]
fn every_template_renders_its_sample_with_the_facts() {
    let samples = samples();
    assert_eq!(samples.len(), RULES.len(), "a sample per rule");
    for (ev, facts) in samples {
        let rules: Vec<_> = rules::for_event(&ev.kind).collect();
        assert_eq!(rules.len(), 1, "{}", ev.kind);
        let r = render(rules[0].template, &ev.data, rules[0].to.as_str()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.subject.is_empty() && !r.subject.contains('\n'), "{}: {:?}", ev.kind, r.subject);
        for fact in facts {
            assert!(r.text.contains(fact), "{}: text lacks {fact:?}:\n{}", ev.kind, r.text);
            assert!(r.html.contains(&escaped(fact)), "{}: html lacks {fact:?}:\n{}", ev.kind, r.html);
        }
        assert!(r.html.contains(&format!("<title>{}</title>", escaped(&r.subject))), "{}", ev.kind);
        assert!(!r.html.contains("<img") && !r.html.contains("<link") && !r.html.contains("src="), "{}", ev.kind);
        assert!(r.text.is_ascii() && !r.text.contains("\n\n\n"), "{}: tidy text:\n{}", ev.kind, r.text);
    }
}

#[test]
fn the_sign_in_mail_carries_its_link() {
    let link = "http://shop.test/account?token=abc";
    let r = render("sign_in", &json!({"link_url": link, "minutes": 15}), "buyer").unwrap();
    assert_eq!(r.subject, "Your sign-in link");
    assert!(r.text.contains(link) && r.text.contains("15 minutes"), "{}", r.text);
    assert!(r.html.contains("href=\"http:&#x2f;&#x2f;shop.test&#x2f;account?token=abc\""), "{}", r.html);
}

#[test]
fn the_html_escapes_the_data() {
    let ev =
        event("e", "ops.alert", json!({"kind": "job_failed", "message": "<script>alert(1)</script>", "details": {}}));
    let r = render("ops_alert", &ev.data, "staff").unwrap();
    assert!(!r.html.contains("<script>") && r.html.contains("&lt;script&gt;"), "{}", r.html);
    assert!(r.text.contains("<script>alert(1)</script>"), "the text is not HTML");
    let staff = render("stock_low", &json!({"product_id": "p", "available": 1, "threshold": 2}), "staff").unwrap();
    assert!(staff.text.contains("STOCKROOM_STAFF_EMAIL") && !staff.text.contains("cover"), "{}", staff.text);
}

#[test]
fn every_rule_has_both_templates_and_every_template_a_rule() {
    let names: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
    for rule in RULES {
        for ext in ["txt", "html"] {
            assert!(names.contains(&format!("{}.{ext}", rule.template).as_str()), "{} has no .{ext}", rule.template);
        }
    }
    for name in names.iter().filter(|n| !n.starts_with("base.")) {
        let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
        assert!(RULES.iter().any(|r| r.template == stem) || DIRECT.contains(&stem), "{name} is not used");
    }
    assert_eq!(rules::for_event("order.refunded").count(), 0);
}

#[test]
fn no_template_prints_a_secret_but_the_buyers_own_link() {
    for (name, source) in TEMPLATES {
        for part in source.split("{{").skip(1) {
            let expr = part.split("}}").next().unwrap_or_default().to_lowercase();
            if BUYER_LINKS.iter().any(|l| expr.trim() == *l) {
                continue;
            }
            for word in ["token", "secret", "key", "password", "signature", "whsec", "_url"] {
                assert!(!expr.contains(word), "{name} prints {{{{{expr}}}}}");
            }
        }
    }
}

#[tokio::test]
async fn fan_out_twice_stores_each_mail_once() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _clock) = ctx(dir.path());
    let alert =
        event("ev-alert", "ops.alert", json!({"kind": "lost_file", "message": "a1.session is gone", "details": {}}));
    assert_eq!(fan_out(&ctx, &alert).await.unwrap(), 2, "one per staff address");
    assert_eq!(fan_out(&ctx, &alert).await.unwrap(), 0, "a repeat stores nothing");
    let mails = for_event(&ctx, "ev-alert").await.unwrap();
    let mut to: Vec<_> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    assert_eq!(to, STAFF);
    assert!(mails.iter().all(|m| m.status == MailStatus::Pending && m.attempts == 0));

    let (paid, _) = samples().remove(0);
    assert_eq!((fan_out(&ctx, &paid).await.unwrap(), fan_out(&ctx, &paid).await.unwrap()), (1, 0));
    let unknown = event("ev-x", "order.refunded", json!({"order_id": "o1", "email": "b@example.com"}));
    assert_eq!(fan_out(&ctx, &unknown).await.unwrap(), 0);
    let no_email = event("ev-y", "order.paid", json!({"order_id": "o1"}));
    assert_eq!(fan_out(&ctx, &no_email).await.unwrap(), 0);
}

#[tokio::test]
async fn no_staff_address_means_no_staff_mail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, _clock) = ctx(dir.path());
    ctx.settings.staff_email.clear();
    let low = event("ev-low", "stock.low", json!({"product_id": "gold", "available": 1, "threshold": 5}));
    assert_eq!(fan_out(&ctx, &low).await.unwrap(), 0);
}

#[tokio::test]
async fn a_mail_that_cannot_be_rendered_is_stored_failed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _clock) = ctx(dir.path());
    let broken = event("ev-b", "order.paid", json!({"order_id": "o1", "email": "b@example.com"}));
    assert_eq!(fan_out(&ctx, &broken).await.unwrap(), 1);
    let mails = for_event(&ctx, "ev-b").await.unwrap();
    assert_eq!(mails[0].status, MailStatus::Failed);
    assert!(mails[0].last_error.as_deref().unwrap_or_default().contains("payment_received"), "{mails:?}");
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default(), "never sent");
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).expect("an RFC 5322 message")
}

#[tokio::test]
async fn send_due_delivers_to_a_real_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, _clock) = ctx(dir.path());
    let smtp = SmtpCatcher::start().await.unwrap();
    ctx.mailer = Arc::new(SmtpMailer::new(&smtp.url, FROM).unwrap());
    let (delivered, _) = samples().remove(2);
    let (alert, _) = samples().remove(11);
    fan_out(&ctx, &delivered).await.unwrap();
    fan_out(&ctx, &alert).await.unwrap();

    let report = send_due(&ctx).await.unwrap();
    assert_eq!(report, MailReport { sent: 3, ..Default::default() });
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default(), "nothing twice");
    let got = smtp.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|m| m.from == "shop@example.com"));
    let mut to: Vec<_> = got.iter().map(|m| m.to.join(",")).collect();
    to.sort();
    assert_eq!(to, ["buyer@example.com", "ops@example.com", "stock@example.com"]);

    let buyer = got.iter().find(|m| m.to == ["buyer@example.com"]).unwrap();
    let msg = parse(buyer.data.as_bytes());
    assert_eq!(msg.subject(), Some("Order o1 delivered"));
    assert_eq!(msg.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("buyer@example.com"));
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("a2.session") && text.contains(ORDER_URL), "{text}");
    assert!(msg.body_html(0).unwrap().contains("<li>a1.session</li>"));
    let mails = for_event(&ctx, "e3").await.unwrap();
    assert_eq!((mails[0].status, mails[0].attempts, mails[0].sent_at.is_some()), (MailStatus::Sent, 1, true));
    // Sent, the buyer's copy keeps no link (its order token); staff mail keeps its body.
    let buyer = stored(&ctx, "e3").await;
    assert!(buyer[0].secret && buyer[0].text.is_empty() && buyer[0].html.is_empty(), "{:?}", buyer[0]);
    let staff = stored(&ctx, "e12").await;
    assert!(staff.len() == 2 && staff.iter().all(|m| !m.secret && !m.text.is_empty()), "{staff:?}");
}

/// The event's mails as stored, bodies included.
async fn stored(ctx: &Ctx, event_id: &str) -> Vec<MailRecord> {
    mails::of_event(ctx, event_id).next_page().await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn a_failing_server_gets_the_mail_on_a_later_attempt_with_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, clock) = ctx(dir.path());
    let smtp = SmtpCatcher::start().await.unwrap();
    ctx.mailer = Arc::new(SmtpMailer::new(&smtp.url, FROM).unwrap());
    smtp.fail_next(2);
    let (link, _) = samples().remove(3);
    fan_out(&ctx, &link).await.unwrap();
    let id = for_event(&ctx, "e4").await.unwrap()[0].mail_id.clone();

    assert_eq!(send_due(&ctx).await.unwrap().retrying, 1);
    let after_one = &for_event(&ctx, "e4").await.unwrap()[0];
    assert!(after_one.last_error.as_deref().unwrap_or_default().contains("451"), "{after_one:?}");
    assert!(after_one.next_attempt_at.is_some());
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default(), "not due before its delay");
    clock.advance(6);
    assert_eq!(send_due(&ctx).await.unwrap().retrying, 1);
    clock.advance(60);
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default(), "the second delay is 5 min");
    clock.advance(300);
    assert_eq!(send_due(&ctx).await.unwrap().sent, 1);

    assert_eq!(smtp.received().len(), 1);
    let mails = for_event(&ctx, "e4").await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!((mails[0].mail_id.as_str(), mails[0].status, mails[0].attempts), (id.as_str(), MailStatus::Sent, 3));
    assert!(mails[0].next_attempt_at.is_none());
}

#[tokio::test]
async fn a_refused_address_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, clock) = ctx(dir.path());
    let smtp = SmtpCatcher::start().await.unwrap();
    ctx.mailer = Arc::new(SmtpMailer::new(&smtp.url, FROM).unwrap());
    smtp.refuse("gone@example.com");
    let url = json!(ORDER_URL);
    for (id, email) in [("e-bad", "gone@example.com"), ("e-good", "here@example.com")] {
        let data = json!({"order_id": "o1", "email": email, "order_url": url});
        fan_out(&ctx, &event(id, "order.link_requested", data)).await.unwrap();
    }
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport { sent: 1, failed: 1, ..Default::default() });
    assert_eq!(smtp.received().iter().map(|m| m.to.join(",")).collect::<Vec<_>>(), ["here@example.com"]);
    let bad = &for_event(&ctx, "e-bad").await.unwrap()[0];
    assert_eq!(bad.status, MailStatus::Failed);
    assert!(bad.last_error.as_deref().unwrap_or_default().contains("550"), "{bad:?}");
    clock.advance(86_400);
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default(), "a refused address is not retried");
    let (failed, _) = list(&ctx, MailStatus::Failed, None, 10).await.unwrap();
    assert_eq!(failed.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(), ["gone@example.com"]);
}

/// Fails every send, transiently.
struct Down(AtomicU32);

#[async_trait]
impl Mailer for Down {
    async fn send(&self, _: &Mail) -> Result<(), MailError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(MailError::Transient("connection refused".into()))
    }
}

#[tokio::test]
async fn a_mail_is_given_up_after_its_last_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ctx, clock) = ctx(dir.path());
    let down = Arc::new(Down(AtomicU32::new(0)));
    ctx.mailer = down.clone();
    fan_out(&ctx, &samples().remove(3).0).await.unwrap();
    let mut reports = Vec::new();
    for delay in [0].into_iter().chain(crate::services::backoff::DELAYS) {
        clock.advance(delay + delay / 5 + 1);
        reports.push(send_due(&ctx).await.unwrap());
    }
    clock.advance(86_400);
    assert_eq!(send_due(&ctx).await.unwrap(), MailReport::default());
    assert_eq!(down.0.load(Ordering::SeqCst), MAX_ATTEMPTS);
    let last = MAX_ATTEMPTS as usize - 1;
    assert!(reports[..last].iter().all(|r| r.retrying == 1), "{reports:?}");
    assert_eq!(reports[last].failed, 1);
    let mail = &for_event(&ctx, "e4").await.unwrap()[0];
    assert_eq!((mail.status, mail.attempts), (MailStatus::Failed, MAX_ATTEMPTS));
}

#[tokio::test]
async fn the_files_adapter_writes_a_parseable_eml() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = FilesMailer::new(dir.path().join("mail"), FROM).unwrap();
    let r = render("order_link", &samples().remove(3).0.data, "buyer").unwrap();
    let mail = Mail { to: vec!["buyer@example.com".into()], subject: r.subject.clone(), text: r.text, html: r.html };
    mailer.send(&mail).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let raw = std::fs::read(&files[0]).unwrap();
    let msg = parse(&raw);
    assert_eq!(msg.subject(), Some(r.subject.as_str()));
    assert_eq!(msg.from().and_then(|a| a.first()).and_then(|a| a.address()), Some("shop@example.com"));
    assert_eq!(msg.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("buyer@example.com"));
    assert!(msg.body_text(0).unwrap().contains(ORDER_URL));
    assert!(msg.body_html(0).unwrap().contains("Open your order"));

    let bad = Mail { to: vec!["not an address".into()], ..mail };
    assert!(mailer.send(&bad).await.unwrap_err().is_permanent());
}
