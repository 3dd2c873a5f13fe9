//! Refund crashed at each step boundary, by staff and by the provider's
//! webhook: the files come back once and the posted credit is reversed once.

use serde_json::json;
use shared::domain::Timestamp;
use shared::services::faults::Mode;
use shared::services::refunds;
use stockroom_tests::webhooks::stripe_refund;
use stockroom_tests::{TestApp, spawn_app};

use super::books::{MODES, advance, balance, check, crash, credit_entries, reconcile_finds_no_damage, restart};
use super::revoke::bought;

pub const POINTS: &[&str] = &["refund.after_commit", "refund.after_credits"];

/// The credits hold, and a bit.
const HOLD: i64 = 48 * 3600 + 60;

/// A fulfilled gold order whose credit has posted: (order, token).
async fn bought_and_posted(app: &TestApp) -> (String, String) {
    let (order, token, _) = bought(app, "gold").await;
    for _ in 0..200 {
        if credit_entries(app, "earn").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    advance(app, HOLD).await;
    let r = app.post_admin("/admin/credits/post", json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(balance(app).await, (80, 0), "posted");
    (order, token)
}

async fn after_refund(app: &TestApp, order: &str, token: &str, stock: &[String], why: &str) {
    assert_eq!(app.order(order, token).await["status"], "refunded", "{why}");
    assert_eq!(app.keys("unused/").await.len(), stock.len(), "{why}: every file back");
    assert_eq!(app.ledger_count("refund").await, 3, "{why}: booked once");
    assert_eq!(credit_entries(app, "reverse").await, 1, "{why}: reversed once");
    assert_eq!(balance(app).await, (0, 0), "{why}");
    check(app, stock, why).await;
}

async fn staff_refund_crashed_at(point: &'static str, mode: Mode) {
    let why = format!("staff {point} {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(4).await;
    let (order, token) = bought_and_posted(&app).await;
    let id = shared::domain::OrderId::parse(&order).expect("an order id");
    crash(&mut app, point, mode, HOLD, move |ctx| async move {
        refunds::refund_order(&ctx, &id, "staff:test").await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    match mode {
        Mode::Fail => {
            let r = app.post_admin(&format!("/admin/orders/{order}/refund"), json!({})).await;
            assert_eq!(r.status(), 200, "{why}: staff repeat the refund");
        }
        Mode::Abort => {
            advance(&app, 600).await;
            let r = reconcile_finds_no_damage(&app, &why).await;
            assert_eq!(r["stale_intents"], 1, "{why}: {r}");
        }
    }
    after_refund(&app, &order, &token, &stock, &why).await;
}

#[tokio::test]
async fn a_staff_refund_crashed_at_every_point_finishes_once() {
    for point in POINTS {
        for mode in MODES {
            staff_refund_crashed_at(point, mode).await;
        }
    }
}

/// Regression: the provider's refund crashed right after its commit. The
/// redelivered webhook is a duplicate, so nothing after the commit ever ran
/// again, and a posted credit used to stay posted; it now goes in the commit.
async fn webhook_refund_crashed(mode: Mode) {
    let why = format!("webhook refund.after_commit {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(4).await;
    let (order, token) = bought_and_posted(&app).await;
    let (raw, h) = stripe_refund(app.stripe_secret(), "evt_refund_crash", &order, 8000, Timestamp::system_now());
    app.ctx().faults.arm_mode("refund.after_commit", 1, mode);
    let url = format!("{}/webhooks/stripe", app.url);
    let mut req = app.client.post(url).body(raw.clone()).header("content-type", "application/json");
    for (k, v) in &h {
        req = req.header(*k, v);
    }
    let first = req.send().await;
    assert!(first.as_ref().map_or(true, |r| r.status() != 200), "{why}: {first:?}");
    assert_eq!(app.ctx().faults.remaining("refund.after_commit"), 0, "{why}");
    if mode == Mode::Abort {
        restart(&mut app, HOLD).await;
    }
    // Signed before the restart with real time, as Stripe signs (the stack's
    // moved clock is business time only).
    assert_eq!(app.post_raw("/webhooks/stripe", raw, &h).await.status(), 200, "{why}: redelivery");
    advance(&app, 600).await;
    let r = reconcile_finds_no_damage(&app, &why).await;
    assert_eq!(r["stale_intents"], 1, "{why}: the files come back through reconcile: {r}");
    after_refund(&app, &order, &token, &stock, &why).await;
}

#[tokio::test]
async fn a_webhook_refund_crashed_after_its_commit_still_reverses_the_credit() {
    for mode in MODES {
        webhook_refund_crashed(mode).await;
    }
}
