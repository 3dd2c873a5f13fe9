//! Only an order's own payment moves it: a repeated deposit to its address
//! is acknowledged and shown to staff, never applied to the order. A refund
//! delivered before its payment ends the order refunded, and the payment
//! that follows hands out nothing.

use serde_json::{Value, json};
use shared::domain::Timestamp;
use stockroom_tests::webhooks::{nowpayments_ipn, nowpayments_repeat, payment_id, stripe_event, stripe_refund};
use stockroom_tests::{problem, s, spawn_app};

#[tokio::test]
async fn a_repeated_deposit_refunded_or_failed_leaves_the_fulfilled_order_alone() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let p1 = payment_id(&body);
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order, p1, "finished", "30", "30");
    assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    let sub = s(&app.wait_for(&order, &token, "fulfilled").await["subscription"]["id"]);
    app.all_events().await;
    // P2, a second deposit to P1's address, is refunded (twice), then fails.
    for status in ["refunded", "refunded", "failed"] {
        let (raw, h) = nowpayments_repeat(app.nowpayments_secret(), &order, (p1 + 1, p1), status, "30");
        let r = app.post_raw("/webhooks/nowpayments", raw, &h).await;
        assert_eq!(r.status(), 200, "{status}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"received": true}));
    }
    assert_eq!(app.order(&order, &token).await["status"], "fulfilled");
    assert_eq!(app.entitlement(&sub).await["state"], "active");
    assert_eq!(app.keys("assigned/").await.len(), 1);
    let events = app.all_events().await;
    let alerts: Vec<&Value> = events.iter().filter(|e| e["type"] == "ops.alert").collect();
    assert_eq!(alerts.len(), 1, "one alert for the money that left: {alerts:?}");
    assert_eq!(alerts[0]["data"]["kind"], "payment_outside_order");
    assert_eq!(alerts[0]["data"]["details"]["order_id"], order.as_str());
    assert_eq!(count(&events, "order.refunded"), 0, "{events:?}");
}

/// How many events of `kind` are in `events`.
fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["type"] == kind).count()
}

#[tokio::test]
async fn a_stripe_refund_before_its_payment_ends_refunded_and_hands_out_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order, token, _) = app.checkout_ok("bronze", "stripe").await;
    let now = Timestamp::system_now();
    let (refund, rh) = stripe_refund(app.stripe_secret(), "evt_early_refund", &order, 3000, now);
    let (paid, ph) =
        stripe_event(app.stripe_secret(), "evt_late_paid", "checkout.session.completed", &order, 3000, "usd", now);
    for (raw, h) in [(&refund, &rh), (&refund, &rh), (&paid, &ph), (&paid, &ph)] {
        assert_eq!(app.post_raw("/webhooks/stripe", raw.clone(), h).await.status(), 200);
    }
    assert_eq!(app.order(&order, &token).await["status"], "refunded");
    // Give a stray fulfilment time to do harm, then look.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.keys("assigned/").await.is_empty());
    assert_eq!(app.order(&order, &token).await["status"], "refunded");
    let events = app.all_events().await;
    assert_eq!((count(&events, "order.refunded"), count(&events, "order.paid")), (1, 0), "{events:?}");
    // Its hold went back: the one file sells again.
    app.checkout_ok("bronze", "stripe").await;
}

#[tokio::test]
async fn staff_still_cannot_refund_an_open_order_that_received_no_money() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    let (status, p) = problem(app.post_admin(&format!("/admin/orders/{order}/refund"), json!({})).await).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(app.order(&order, &token).await["status"], "pending");
}
