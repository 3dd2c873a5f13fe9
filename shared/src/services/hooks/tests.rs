//! Merchant webhooks end to end on the embedded backend, against a real
//! receiver on 127.0.0.1; the business clock is moved to reach retries.

use std::sync::Arc;
use std::time::Duration;

use super::endpoints::{self, NewEndpoint};
use super::records::{self, DeliveryStatus};
use super::*;
use crate::adapters::embedded::open_embedded;
use crate::adapters::outbound::HttpSender;
use crate::domain::Timestamp;
use crate::ports::clock::OffsetClock;
use crate::testkit::receiver::{Received, Receiver, Reply};
use crate::testkit::stack::local_ctx;

struct Stack {
    ctx: Ctx,
    clock: Arc<OffsetClock>,
    _dir: tempfile::TempDir,
}

fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let mut ctx =
        local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
    ctx.webhook_sender = Arc::new(HttpSender::new(true));
    Stack { ctx, clock, _dir: dir }
}

fn envelope(id: &str, kind: &str) -> Envelope {
    Envelope {
        id: id.into(),
        kind: kind.into(),
        timestamp: "2025-01-02T03:04:05Z".into(),
        data: serde_json::json!({"order_id": "o1"}),
    }
}

async fn endpoint(ctx: &Ctx, url: &str, events: &[&str]) -> endpoints::CreatedEndpoint {
    let req = NewEndpoint { url: url.into(), events: events.iter().map(|e| e.to_string()).collect() };
    endpoints::create(ctx, &req, "staff:test").await.unwrap()
}

/// Verifies a received request with `secret`, by the real clock.
fn verifies(r: &Received, secret: &str) -> bool {
    let h = |n: &str| r.headers.get(n).cloned().unwrap_or_default();
    let now = Timestamp::system_now().secs();
    sign::verify(secret, &h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature"), &r.body, now).is_ok()
}

#[tokio::test]
async fn a_repeated_fan_out_creates_one_delivery_for_each_endpoint_that_wants_it() {
    let s = stack();
    let r = Receiver::start(vec![]).await;
    let all = endpoint(&s.ctx, &r.url, &["*"]).await;
    let paid = endpoint(&s.ctx, &r.url, &["order.paid"]).await;
    endpoint(&s.ctx, &r.url, &["stock.low"]).await;
    let e = envelope("evt1", "order.paid");
    assert_eq!(fan_out(&s.ctx, &e).await.unwrap(), 2);
    assert_eq!(fan_out(&s.ctx, &e).await.unwrap(), 0, "the same event again creates nothing");
    for id in [&all.id, &paid.id] {
        let (ds, _) = endpoints::deliveries(&s.ctx, id, 10, None).await.unwrap();
        assert_eq!(ds.len(), 1);
        assert_eq!((ds[0].event_id.as_str(), ds[0].status), ("evt1", DeliveryStatus::Pending));
    }
    let report = deliver_due(&s.ctx).await.unwrap();
    assert_eq!((report.due, report.delivered), (2, 2));
    assert_eq!(deliver_due(&s.ctx).await.unwrap().due, 0);
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt_with_the_same_id() {
    let s = stack();
    let r = Receiver::start(vec![Reply::status(500), Reply::status(503)]).await;
    let ep = endpoint(&s.ctx, &r.url, &["order.paid"]).await;
    fan_out(&s.ctx, &envelope("evt-3", "order.paid")).await.unwrap();

    assert_eq!(deliver_due(&s.ctx).await.unwrap().retrying, 1);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().due, 0, "not due again for 5 s");
    s.clock.advance(7);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().retrying, 1);
    s.clock.advance(60);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().due, 0, "the second retry waits 5 min");
    s.clock.advance(6 * 60);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().delivered, 1);

    let got = r.got();
    assert_eq!(got.len(), 3);
    for g in &got {
        assert_eq!(g.headers["webhook-id"], "evt-3");
        assert!(verifies(g, &ep.secret), "each attempt is signed afresh");
        let body: serde_json::Value = serde_json::from_slice(&g.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"type": "order.paid", "timestamp": "2025-01-02T03:04:05Z", "data": {"order_id": "o1"}})
        );
    }
    let mut tampered = got[2].clone();
    tampered.body = br#"{"type":"order.paid","timestamp":"2025-01-02T03:04:05Z","data":{"order_id":"o2"}}"#.to_vec();
    assert!(!verifies(&tampered, &ep.secret), "a tampered body fails verification");

    let (ds, _) = endpoints::deliveries(&s.ctx, &ep.id, 10, None).await.unwrap();
    assert_eq!(ds[0].status, DeliveryStatus::Delivered);
    let statuses: Vec<Option<u16>> = ds[0].attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(200)]);
    assert_eq!(ds[0].next_attempt, None);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_its_later_events() {
    let s = stack();
    let r = Receiver::start(vec![Reply::status(410)]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-a", "stock.low")).await.unwrap();
    fan_out(&s.ctx, &envelope("evt-b", "stock.low")).await.unwrap();
    let report = deliver_due(&s.ctx).await.unwrap();
    assert_eq!((report.failed, report.endpoints_disabled, report.deferred), (1, 1, 1));
    let listed = endpoints::list(&s.ctx).await.unwrap();
    assert!(!listed[0].enabled);
    assert!(listed[0].disabled_reason.as_deref().unwrap_or_default().contains("410"));
    // Staff are told, once, by an ops.alert committed with the disabling.
    let pending = crate::services::store::outbox::pending(&s.ctx, 10).read_all().await.unwrap();
    let alerts: Vec<_> = pending.iter().filter(|e| e.kind == "ops.alert").collect();
    assert_eq!(alerts.len(), 1, "{pending:?}");
    assert_eq!((alerts[0].data["kind"].as_str(), alerts[0].data["url"].as_str()), (Some("endpoint_disabled"), None));
    assert_eq!(alerts[0].data["details"]["endpoint_id"], ep.id.as_str());
    let rec = super::records::endpoints(&s.ctx).await.unwrap().remove(0);
    assert!(!super::on_endpoint_disabled(&s.ctx, &rec, "again", s.ctx.clock.now()).await.unwrap());
    assert_eq!(crate::services::store::outbox::pending(&s.ctx, 10).read_all().await.unwrap().len(), pending.len());
    assert_eq!(fan_out(&s.ctx, &envelope("evt-c", "stock.low")).await.unwrap(), 0);
    // The one left behind is dropped, not sent.
    let report = deliver_due(&s.ctx).await.unwrap();
    assert_eq!((report.dropped, report.delivered), (1, 0));
    assert_eq!(r.got().len(), 1);
    let (ds, _) = endpoints::deliveries(&s.ctx, &ep.id, 10, None).await.unwrap();
    assert!(ds.iter().all(|d| d.status != DeliveryStatus::Pending));
}

/// Credentials in an endpoint URL (a query token; user info, refused now
/// but stored before) stay in the endpoint's own listing: the alert that
/// it was disabled, which goes to staff and the other endpoints, has none.
#[tokio::test]
async fn the_disabled_alert_shows_the_url_without_its_secret_parts() {
    let s = stack();
    let secrets = ["hookuser", "hookpass", "qs3cret", "fr4g"];
    let (a, b) = (Receiver::start(vec![Reply::status(410)]).await, Receiver::start(vec![Reply::status(410)]).await);
    let with_user = |url: &str| url.replace("http://", "http://hookuser:hookpass@");
    let refused = NewEndpoint { url: with_user(&a.url), events: vec!["*".into()] };
    match endpoints::create(&s.ctx, &refused, "staff:test").await {
        Err(ServiceError::BadInput(why)) => assert!(why.contains("user name or password"), "{why}"),
        other => panic!("user info accepted: {other:?}"),
    }
    let token = endpoint(&s.ctx, &format!("{}?token=qs3cret#fr4g", a.url), &["*"]).await;
    assert!(endpoints::list(&s.ctx).await.unwrap()[0].url.ends_with("?token=qs3cret#fr4g"), "shown whole to admins");
    let mut legacy = records::endpoint(&s.ctx, &token.id).await.unwrap().unwrap();
    legacy.id = s.ctx.ids.next_id();
    legacy.url = format!("{}?token=qs3cret", with_user(&b.url));
    records::create_endpoint(&s.ctx, &legacy).await.unwrap();

    fan_out(&s.ctx, &envelope("evt-gone", "stock.low")).await.unwrap();
    assert_eq!(deliver_due(&s.ctx).await.unwrap().endpoints_disabled, 2);
    let pending = crate::services::store::outbox::pending(&s.ctx, 10).read_all().await.unwrap();
    let alerts: Vec<_> = pending.iter().filter(|e| e.kind == "ops.alert").collect();
    assert_eq!(alerts.len(), 2);
    for alert in alerts {
        let text = alert.data.to_string();
        assert!(secrets.iter().all(|secret| !text.contains(secret)), "{text}");
        let id = alert.data["details"]["endpoint_id"].as_str().unwrap_or_default();
        let base = if id == token.id { &a.url } else { &b.url };
        assert_eq!(alert.data["details"]["url"], base.as_str());
        assert!(alert.data["message"].as_str().unwrap_or_default().contains(base.as_str()), "{text}");
    }
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let s = stack();
    let r = Receiver::start(vec![Reply { status: 429, retry_after: Some(3600), ..Default::default() }]).await;
    endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-429", "stock.low")).await.unwrap();
    assert_eq!(deliver_due(&s.ctx).await.unwrap().retrying, 1);
    s.clock.advance(600);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().due, 0, "not before Retry-After");
    s.clock.advance(3100);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().delivered, 1);
    assert_eq!(r.got().len(), 2);
}

#[tokio::test]
async fn an_endpoint_failing_for_days_is_disabled() {
    let s = stack();
    let r = Receiver::start(vec![Reply::status(500); 10]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-x", "stock.low")).await.unwrap();
    deliver_due(&s.ctx).await.unwrap();
    assert!(records::endpoint(&s.ctx, &ep.id).await.unwrap().unwrap().failing_since.is_some());
    s.clock.advance(6 * 86_400);
    let report = deliver_due(&s.ctx).await.unwrap();
    assert_eq!(report.endpoints_disabled, 1);
    let rec = records::endpoint(&s.ctx, &ep.id).await.unwrap().unwrap();
    assert!(!rec.enabled && rec.disabled_reason.unwrap().contains("failed since"));
}

#[tokio::test]
async fn a_success_clears_the_failing_mark() {
    let s = stack();
    let r = Receiver::start(vec![Reply::status(500)]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-y", "stock.low")).await.unwrap();
    deliver_due(&s.ctx).await.unwrap();
    s.clock.advance(10);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().delivered, 1);
    assert_eq!(records::endpoint(&s.ctx, &ep.id).await.unwrap().unwrap().failing_since, None);
}

#[tokio::test]
async fn private_addresses_are_refused_at_creation_and_at_delivery_unless_allowed() {
    let mut s = stack();
    let r = Receiver::start(vec![]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-s", "stock.low")).await.unwrap();
    s.ctx.webhook_sender = Arc::new(HttpSender::new(false));
    for url in
        [r.url.as_str(), "https://10.0.0.1/h", "https://169.254.169.254/", "https://[::1]/", "https://localhost/"]
    {
        let req = NewEndpoint { url: url.into(), events: vec!["*".into()] };
        match endpoints::create(&s.ctx, &req, "staff:test").await {
            Err(ServiceError::BadInput(why)) => assert!(why.contains("refused"), "{why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    // DNS or config changed after creation: nothing is sent, it is retried.
    assert_eq!(deliver_due(&s.ctx).await.unwrap().retrying, 1);
    assert!(r.got().is_empty());
    let (ds, _) = endpoints::deliveries(&s.ctx, &ep.id, 10, None).await.unwrap();
    assert!(ds[0].attempts[0].error.as_deref().unwrap_or_default().contains("refused"));
}

#[tokio::test]
async fn input_is_checked() {
    let s = stack();
    let bad = [
        ("https://example.com/h", vec![]),
        ("https://example.com/h", vec!["order.nope".to_string()]),
        ("", vec!["*".into()]),
    ];
    for (url, events) in bad {
        let req = NewEndpoint { url: url.into(), events };
        assert!(matches!(endpoints::create(&s.ctx, &req, "t").await, Err(ServiceError::BadInput(_))));
    }
    assert!(matches!(endpoints::rotate(&s.ctx, "nope", "t").await, Err(ServiceError::NotFound(_))));
    assert!(matches!(endpoints::delete(&s.ctx, "nope", "t").await, Err(ServiceError::NotFound(_))));
    assert!(matches!(endpoints::resend(&s.ctx, "nope").await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new() {
    let s = stack();
    let r = Receiver::start(vec![]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    let new = endpoints::rotate(&s.ctx, &ep.id, "staff:test").await.unwrap();
    assert_ne!(new, ep.secret);
    assert!(
        endpoints::list(&s.ctx)
            .await
            .unwrap()
            .iter()
            .all(|e| serde_json::to_string(e).unwrap().find("whsec_").is_none())
    );

    assert_eq!(endpoints::test(&s.ctx, &ep.id, "staff:test").await.unwrap().status, DeliveryStatus::Delivered);
    let first = &r.got()[0];
    assert_eq!(first.headers["webhook-signature"].split(' ').count(), 2);
    assert!(verifies(first, &new) && verifies(first, &ep.secret));

    s.clock.advance(24 * 3600 + 1);
    endpoints::test(&s.ctx, &ep.id, "staff:test").await.unwrap();
    let second = &r.got()[1];
    assert_eq!(second.headers["webhook-signature"].split(' ').count(), 1);
    assert!(verifies(second, &new) && !verifies(second, &ep.secret));
    let body: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(body["type"], TEST_EVENT);
}

#[tokio::test]
async fn resend_starts_a_new_series_with_the_same_id() {
    let s = stack();
    let r = Receiver::start(vec![]).await;
    let ep = endpoint(&s.ctx, &r.url, &["order.paid"]).await;
    fan_out(&s.ctx, &envelope("evt-r", "order.paid")).await.unwrap();
    deliver_due(&s.ctx).await.unwrap();
    let later = endpoint(&s.ctx, &r.url, &["*"]).await;
    let resent = endpoints::resend(&s.ctx, "evt-r").await.unwrap();
    assert_eq!(resent.endpoints, 2, "the one that had it and the new one that wants it");
    assert_eq!(deliver_due(&s.ctx).await.unwrap().delivered, 2);
    let got = r.got();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|g| g.headers["webhook-id"] == "evt-r"));
    let (ds, _) = endpoints::deliveries(&s.ctx, &ep.id, 10, None).await.unwrap();
    assert_eq!(ds[0].attempts.len(), 2);
    assert_eq!(endpoints::deliveries(&s.ctx, &later.id, 10, None).await.unwrap().0.len(), 1);
}

#[tokio::test]
async fn a_deleted_endpoint_gets_nothing_more() {
    let s = stack();
    let r = Receiver::start(vec![]).await;
    let ep = endpoint(&s.ctx, &r.url, &["*"]).await;
    fan_out(&s.ctx, &envelope("evt-d", "stock.low")).await.unwrap();
    endpoints::delete(&s.ctx, &ep.id, "staff:test").await.unwrap();
    assert_eq!(deliver_due(&s.ctx).await.unwrap().dropped, 1);
    assert!(r.got().is_empty());
    assert!(endpoints::list(&s.ctx).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_slow_endpoint_does_not_hold_up_the_others() {
    let s = stack();
    let slow = Receiver::start(vec![Reply { status: 200, delay: Duration::from_secs(8), ..Default::default() }]).await;
    let fast = Receiver::start(vec![]).await;
    endpoint(&s.ctx, &slow.url, &["*"]).await;
    endpoint(&s.ctx, &fast.url, &["*"]).await;
    for n in 0..3 {
        fan_out(&s.ctx, &envelope(&format!("evt-{n}"), "stock.low")).await.unwrap();
    }
    let report = deliver_due(&s.ctx).await.unwrap();
    // The slow one timed out once and its other two wait for the next run.
    assert_eq!((report.delivered, report.retrying, report.deferred), (3, 1, 2));
    assert_eq!(fast.got().len(), 3);
}

/// A dead endpoint's backlog, longer than one run reads, cannot keep a
/// healthy endpoint's delivery out of the runs: what the dead one did not
/// try moves back to its retry.
#[tokio::test]
async fn a_dead_endpoints_backlog_does_not_starve_the_others() {
    let s = stack();
    let dead = Receiver::start(vec![Reply::status(500); 10]).await;
    let healthy = Receiver::start(vec![]).await;
    let dead_ep = endpoint(&s.ctx, &dead.url, &["stock.low"]).await;
    endpoint(&s.ctx, &healthy.url, &["order.paid"]).await;
    let backlog = 250;
    for n in 0..backlog {
        fan_out(&s.ctx, &envelope(&format!("evt-{n:04}"), "stock.low")).await.unwrap();
    }
    s.clock.advance(1); // the healthy one's event is the newest
    fan_out(&s.ctx, &envelope("evt-paid", "order.paid")).await.unwrap();

    let first = deliver_due(&s.ctx).await.unwrap();
    assert_eq!((first.due, first.retrying, first.deferred, first.errors), (200, 1, 199, 0));
    let second = deliver_due(&s.ctx).await.unwrap();
    assert_eq!(healthy.got().len(), 1, "the healthy endpoint got its event by the second run: {second:?}");
    assert_eq!((second.delivered, second.retrying), (1, 1));
    assert_eq!(dead.got().len(), 2, "one attempt per run at the dead endpoint");

    // The ones moved back wait for the retry of the one tried, untried.
    let (ds, _) = endpoints::deliveries(&s.ctx, &dead_ep.id, 300, None).await.unwrap();
    assert_eq!(ds.len(), backlog);
    assert!(ds.iter().all(|d| d.status == DeliveryStatus::Pending && d.next_attempt.is_some()));
    let tried: Vec<_> = ds.iter().filter(|d| d.tries == 1).collect();
    assert_eq!(tried.len(), 2);
    assert!(tried.iter().all(|d| d.note.is_none()), "{tried:?}");
    assert_eq!(ds.iter().filter(|d| d.note.as_deref().is_some_and(|n| n.starts_with("waiting"))).count(), 248);
    assert_eq!(deliver_due(&s.ctx).await.unwrap().due, 0, "nothing is due before the retry");
    s.clock.advance(10);
    let third = deliver_due(&s.ctx).await.unwrap();
    assert_eq!((third.due, third.retrying), (200, 1), "{third:?}");
    // A waiting one, once tried, no longer says it waits.
    let waiting = records::delivery(&s.ctx, &dead_ep.id, "evt-0001").await.unwrap().unwrap();
    assert!(waiting.note.is_some());
    let rec = records::endpoint(&s.ctx, &dead_ep.id).await.unwrap().unwrap();
    assert_eq!(deliver::attempt(&s.ctx, Some(&rec), waiting).await.unwrap().retrying, 1);
    assert_eq!(records::delivery(&s.ctx, &dead_ep.id, "evt-0001").await.unwrap().unwrap().note, None);
}

/// An event recorded before any endpoint wanted it has no delivery: resend
/// takes it from the event log, with its own id.
#[tokio::test]
async fn resend_of_an_event_no_endpoint_had_comes_from_the_event_log() {
    let s = stack();
    let event = crate::services::events::Event::StockLow {
        product_id: "gold".into(),
        available: 1,
        threshold: 6,
        days_of_cover: None,
    };
    let write = crate::services::events::record(&s.ctx, &event).unwrap();
    s.ctx.records.transact(vec![write]).await.unwrap();
    let id = crate::services::store::outbox::pending(&s.ctx, 1).read_all().await.unwrap()[0].id.clone();
    let r = Receiver::start(vec![]).await;
    endpoint(&s.ctx, &r.url, &["stock.low"]).await;
    endpoint(&s.ctx, &r.url, &["order.paid"]).await;
    let resent = endpoints::resend(&s.ctx, &id).await.unwrap();
    assert_eq!(resent.endpoints, 1, "only the endpoint that wants it");
    assert_eq!(deliver_due(&s.ctx).await.unwrap().delivered, 1);
    let got = r.got();
    assert_eq!(got[0].headers["webhook-id"], id);
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!((body["type"].as_str(), body["data"]["product_id"].as_str()), (Some("stock.low"), Some("gold")));
}
