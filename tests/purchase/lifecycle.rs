use std::sync::Arc;

use serde_json::{Value, json};
use shared::domain::Timestamp;
use stockroom_tests::webhooks::{stripe_event, stripe_refund};
use stockroom_tests::{TestApp, s, spawn_app};

const DAY: i64 = 86_400;

async fn advance(app: &TestApp, secs: i64) {
    assert_eq!(app.post("/sandbox/clock", json!({"advance_seconds": secs})).await.status(), 200);
}

async fn expire(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/expire", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A fulfilled plan: (order id, token, subscription id).
async fn bought(app: &TestApp, product: &str, email: &str) -> (String, String, String) {
    let r = app.post("/checkout", json!({"email": email, "product_id": product, "provider": "stripe"})).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let (id, token) = (s(&body["order_id"]), s(&body["order_token"]));
    app.sandbox_pay(&id, json!({})).await;
    let order = app.wait_for(&id, &token, "fulfilled").await;
    (id, token, s(&order["subscription"]["id"]))
}

#[tokio::test]
async fn active_then_grace_then_expired_with_files_back() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (_, _, sub) = bought(&app, "silver", "ann@example.com").await;
    let e = app.entitlement(&sub).await;
    assert_eq!((e["state"].as_str(), e["can_run"].as_bool()), (Some("active"), Some(true)));
    assert_eq!(e["files"].as_array().unwrap().len(), 2);
    assert_eq!(e["interval_seconds"], 1800);
    // Day 30 + 1 hour: grace. The bot stops, the files stay.
    advance(&app, 30 * DAY + 3600).await;
    let r = expire(&app).await;
    assert_eq!((r["moved_to_grace"].as_u64(), r["expired"].as_u64()), (Some(1), Some(0)));
    let e = app.entitlement(&sub).await;
    assert_eq!((e["state"].as_str(), e["can_run"].as_bool()), (Some("grace"), Some(false)));
    assert_eq!(app.keys("assigned/").await.len(), 2);
    assert_eq!(expire(&app).await["moved_to_grace"], 0, "noted once");
    // A day later: expired, the files are back in unused/.
    advance(&app, DAY).await;
    let r = expire(&app).await;
    assert_eq!((r["expired"].as_u64(), r["files_released"].as_u64()), (Some(1), Some(2)));
    let e = app.entitlement(&sub).await;
    assert_eq!((e["state"].as_str(), e["can_run"].as_bool()), (Some("expired"), Some(false)));
    assert!(e["files"].as_array().unwrap().is_empty());
    assert!(app.keys("assigned/").await.is_empty());
    assert_eq!(app.keys("unused/").await.len(), 3);
    assert_eq!(app.ledger_count("revoke").await, 2);
    assert_eq!(expire(&app).await["expired"], 0, "nothing left to expire");
}

#[tokio::test]
async fn buyers_are_reminded_72_and_24_hours_before_the_end_once_each_then_told_it_ended() {
    let app = Arc::new(spawn_app().await);
    app.add_stock(2).await;
    let (order, _, sub) = bought(&app, "silver", "ann@example.com").await;
    app.all_events().await;
    advance(&app, 30 * DAY - 73 * 3600).await;
    assert_eq!(expire(&app).await["reminded"], 0, "73 h left: not yet");
    advance(&app, 2 * 3600).await;
    // Two runs at once send one reminder.
    let (a, b) = tokio::join!(expire(&app), expire(&app));
    assert_eq!(a["reminded"].as_u64().unwrap() + b["reminded"].as_u64().unwrap(), 1, "{a} {b}");
    assert_eq!(expire(&app).await["reminded"], 0, "sent once");
    advance(&app, 48 * 3600).await;
    assert_eq!(expire(&app).await["reminded"], 1, "23 h left: the second");
    assert_eq!(expire(&app).await["reminded"], 0);
    let soon = app.events("subscription.expiring_soon").await;
    let hours: Vec<Option<u64>> = soon.iter().map(|d| d["hours_left"].as_u64()).collect();
    assert_eq!(hours, [Some(72), Some(24)]);
    assert!(soon.iter().all(|d| d["subscription_id"] == sub.as_str() && d["email"] == "ann@example.com"), "{soon:?}");
    // Past the grace: the end says who to tell.
    advance(&app, 2 * DAY).await;
    assert_eq!(expire(&app).await["expired"], 1);
    let ended = app.events("subscription.ended").await;
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0]["email"].as_str(), ended[0]["order_id"].as_str()),
        (Some("ann@example.com"), Some(order.as_str()))
    );
}

#[tokio::test]
async fn a_plan_bought_inside_the_last_day_gets_only_the_24_hour_reminder() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (_, _, sub) = bought(&app, "silver", "bo@example.com").await;
    app.all_events().await;
    // The clock jumps past both marks at once (a stack that was down).
    advance(&app, 30 * DAY - 3600).await;
    assert_eq!(expire(&app).await["reminded"], 1);
    assert_eq!(expire(&app).await["reminded"], 0);
    let soon = app.events("subscription.expiring_soon").await;
    assert_eq!(soon.len(), 1);
    assert_eq!((soon[0]["hours_left"].as_u64(), soon[0]["subscription_id"].as_str()), (Some(24), Some(sub.as_str())));
}

#[tokio::test]
async fn two_expiry_runs_at_once_revoke_once() {
    let app = Arc::new(spawn_app().await);
    app.add_stock(6).await;
    for i in 0..3 {
        bought(&app, "silver", &format!("b{i}@example.com")).await;
    }
    advance(&app, 32 * DAY).await;
    let (a, b) = tokio::join!(expire(&app), expire(&app));
    let expired = a["expired"].as_u64().unwrap() + b["expired"].as_u64().unwrap();
    assert_eq!(expired, 3);
    assert_eq!(app.ledger_count("revoke").await, 6);
    assert_eq!(app.keys("unused/").await.len(), 6);
    assert!(app.keys("assigned/").await.is_empty());
}

#[tokio::test]
async fn refund_events_duplicated_and_out_of_order_refund_once() {
    let app = Arc::new(spawn_app().await);
    app.add_stock(3).await;
    let (order, token, sub) = bought(&app, "gold", "ann@example.com").await;
    let now = Timestamp::system_now();
    let (refund, h) = stripe_refund(app.stripe_secret(), "evt_refund", &order, 8000, now);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (app, body, h) = (app.clone(), refund.clone(), h.clone());
        set.spawn(async move { app.post_raw("/webhooks/stripe", body, &h).await.status().as_u16() });
    }
    while let Some(st) = set.join_next().await {
        assert_eq!(st.unwrap(), 200);
    }
    // A late "completed" for the same order changes nothing.
    let (late, h) =
        stripe_event(app.stripe_secret(), "evt_late", "checkout.session.completed", &order, 8000, "usd", now);
    assert_eq!(app.post_raw("/webhooks/stripe", late, &h).await.status(), 200);
    // The files move before they are booked (the worker does both): wait
    // for the booking, then check it happened once.
    for _ in 0..100 {
        if app.ledger_count("refund").await >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.order(&order, &token).await["status"], "refunded");
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
    assert_eq!(app.keys("unused/").await.len(), 3);
    assert_eq!(app.ledger_count("refund").await, 3);
}

#[tokio::test]
async fn a_staff_refund_is_idempotent() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (order, token, _) = bought(&app, "bronze", "ann@example.com").await;
    for _ in 0..3 {
        let r = app.post_admin(&format!("/admin/orders/{order}/refund"), json!({})).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.order(&order, &token).await["status"], "refunded");
    assert_eq!(app.ledger_count("refund").await, 1);
    assert_eq!(app.keys("unused/").await.len(), 2);
}

#[tokio::test]
async fn a_crash_mid_revoke_is_finished_by_trying_again() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (_, _, sub) = bought(&app, "gold", "ann@example.com").await;
    app.ctx().faults.arm("revoke.after_first_move", 1);
    let r = app.post_admin(&format!("/admin/subscriptions/{sub}/revoke"), json!({})).await;
    assert_eq!(r.status(), 500);
    assert_eq!(app.keys("unused/").await.len(), 1, "one file moved before the crash");
    let r = app.post_admin(&format!("/admin/subscriptions/{sub}/revoke"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.keys("unused/").await.len(), 3);
    assert_eq!(app.ledger_count("revoke").await, 3);
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
}

#[tokio::test]
async fn refunding_a_half_fulfilled_order_hands_the_claim_back() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (order, token, _) = app.checkout_ok("gold", "stripe").await;
    // Fulfilment claims the files and then keeps crashing before moving them.
    app.ctx().faults.arm("fulfil.after_claim", 1000);
    app.sandbox_pay(&order, json!({})).await;
    app.eventually("claimed", || async { app.ledger_count("sale").await == 3 }).await;
    let r = app.post_admin(&format!("/admin/orders/{order}/refund"), json!({})).await;
    assert_eq!(r.status(), 200);
    app.ctx().faults.arm("fulfil.after_claim", 0);
    app.wait_for(&order, &token, "refunded").await;
    // Each file is booked after it moves: wait for both.
    app.eventually("the claim handed back and booked", || async {
        app.keys("unused/").await.len() == 3 && app.ledger_count("refund").await == 3
    })
    .await;
    assert!(app.keys("assigned/").await.is_empty());
}

#[tokio::test]
async fn a_backorder_is_filled_when_an_expiry_returns_stock() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (_, _, _) = bought(&app, "bronze", "ann@example.com").await;
    // A payment arrives for an order whose hold lapsed: nothing free.
    app.add_stock(1).await;
    let (late, late_token, _) = app.checkout_ok("bronze", "nowpayments").await;
    advance(&app, 31 * 60).await;
    expire(&app).await;
    let (other, other_token, _) = app.checkout_ok("bronze", "stripe").await;
    app.sandbox_pay(&other, json!({})).await;
    app.wait_for(&other, &other_token, "fulfilled").await;
    app.sandbox_pay(&late, json!({})).await;
    app.wait_for(&late, &late_token, "backordered").await;
    // The first buyer's plan runs out: its file goes to the backorder.
    advance(&app, 32 * DAY).await;
    expire(&app).await;
    app.wait_for(&late, &late_token, "fulfilled").await;
}
