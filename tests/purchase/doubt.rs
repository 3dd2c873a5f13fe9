use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use stockroom_tests::gateway::ScriptedGateway;
use stockroom_tests::webhooks::nowpayments_ipn;
use stockroom_tests::{problem, s, spawn_app_with_gateway};

#[tokio::test]
async fn a_doubtful_finished_is_settled_by_the_providers_answer() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid = s(&body["payment"]["payment_id"]);
    // The provider says the buyer paid only 10 of 30.
    let (truth, _) = nowpayments_ipn("unused", &order_id, pid.parse().unwrap(), "partially_paid", "30", "10");
    gw.answer(&pid, truth);
    // A webhook claiming "finished" while its own amounts say 10 of 30.
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid.parse().unwrap(), "finished", "30", "10");
    assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    assert_eq!(gw.lookups.load(Ordering::SeqCst), 1, "asked the provider");
    let order = app.order(&order_id, &token).await;
    assert_eq!(order["status"], "partially_paid");
    assert!(app.keys("assigned/").await.is_empty(), "no stock on a doubtful payment");
}

#[tokio::test]
async fn a_doubtful_payment_waits_while_the_provider_is_down() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid: u64 = s(&body["payment"]["payment_id"]).parse().unwrap();
    gw.down.store(true, Ordering::SeqCst);
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid, "finished", "31", "31");
    let (status, _) = problem(app.post_raw("/webhooks/nowpayments", raw.clone(), &h).await).await;
    assert_eq!(status, 502, "the provider will deliver it again");
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
    // Back up; the provider confirms the order's real price was paid.
    gw.down.store(false, Ordering::SeqCst);
    let (truth, _) = nowpayments_ipn("unused", &order_id, pid, "finished", "30", "30");
    gw.answer(&pid.to_string(), truth);
    assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    app.wait_for(&order_id, &token, "fulfilled").await;
}

#[tokio::test]
async fn stale_unpaid_orders_are_checked_with_the_provider() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(2).await;
    let (paid, paid_token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid = s(&body["payment"]["payment_id"]);
    let (truth, _) = nowpayments_ipn("unused", &paid, pid.parse().unwrap(), "finished", "30", "30");
    gw.answer(&pid, truth);
    // Young orders are not asked about.
    let r: serde_json::Value = app.post_admin("/admin/expire", json!({})).await.json().await.unwrap();
    assert_eq!(r["payments_verified"], 0);
    assert_eq!(gw.lookups.load(Ordering::SeqCst), 0);
    // Eleven minutes on, with the webhook lost: the sweep finds the payment.
    app.post("/sandbox/clock", json!({"advance_seconds": 11 * 60})).await;
    let r: serde_json::Value = app.post_admin("/admin/expire", json!({})).await.json().await.unwrap();
    assert_eq!(r["payments_verified"], 1);
    app.wait_for(&paid, &paid_token, "fulfilled").await;
}

#[tokio::test]
async fn a_provider_outage_at_checkout_holds_nothing() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    gw.down.store(true, Ordering::SeqCst);
    let (status, p) = problem(app.checkout("bronze", "stripe").await).await;
    assert_eq!(status, 502);
    assert!(s(&p["type"]).ends_with("/payment-provider-unavailable"));
    assert_eq!(app.ledger_count("release").await, 1, "the hold was given back");
    gw.down.store(false, Ordering::SeqCst);
    app.checkout_ok("bronze", "stripe").await;
}

#[tokio::test]
async fn a_lapsed_hold_closes_its_invoice() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "stripe").await;
    app.post("/sandbox/clock", json!({"advance_seconds": 32 * 60})).await;
    app.post_admin("/admin/expire", json!({})).await;
    assert_eq!(app.order(&order_id, &token).await["status"], "expired");
    assert_eq!(*gw.cancels.lock().unwrap(), [s(&body["payment"]["payment_id"])]);
}
