//! A refund gives back only what its order bought: an add-on's refund takes
//! its file, a renewal's or extension's its days, and only the order that
//! created a subscription ends it. Money that arrived for an order that then
//! lapsed stays visible and can be refunded; money beyond the price is kept
//! on the order, never dropped.

use serde_json::{Value, json};
use shared::domain::Timestamp;
use stockroom_tests::{TestApp, problem, s, spawn_app};

const DAY: i64 = 86_400;
pub const EMAIL: &str = "ann@example.com";

fn until(e: &Value) -> i64 {
    Timestamp::parse_rfc3339(e["valid_until"].as_str().unwrap()).unwrap().secs()
}

/// A paid plan: (subscription id, order id, order token).
pub async fn plan(app: &TestApp, product: &str) -> (String, String, String) {
    let o = app.buy_body(json!({"email": EMAIL, "product_id": product, "provider": "stripe"})).await;
    (s(&o["subscription"]["id"]), s(&o["order_id"]), s(&o["order_token"]))
}

/// A paid add-on or renewal for `sub`: its order id.
pub async fn addon(app: &TestApp, product: &str, sub: &str, token: &str, renew: bool) -> String {
    let target = if renew { "renew_subscription_id" } else { "subscription_id" };
    let body =
        json!({"email": EMAIL, "product_id": product, "provider": "nowpayments", target: sub, "order_token": token});
    s(&app.buy_body(body).await["order_id"])
}

pub async fn refund(app: &TestApp, order_id: &str) -> (u16, Value) {
    let r = app.post_admin(&format!("/admin/orders/{order_id}/refund"), json!({})).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_add_on_refund_takes_back_only_its_file() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (sub, plan_order, token) = plan(&app, "bronze").await;
    let base = app.entitlement(&sub).await["files"].clone();
    let extra = addon(&app, "extra-account", &sub, &token, false).await;
    assert_eq!(app.entitlement(&sub).await["files"].as_array().unwrap().len(), 2);

    let (status, report) = refund(&app, &extra).await;
    assert_eq!(status, 200, "{report}");
    let e = app.entitlement(&sub).await;
    assert_eq!((e["state"].as_str(), e["can_run"].as_bool()), (Some("active"), Some(true)), "the $30 plan lives on");
    assert_eq!(e["files"], base, "the plan keeps its own file");
    assert_eq!(app.keys("assigned/").await.len(), 1);
    assert_eq!(app.keys("unused/").await.len(), 1, "the add-on's file is back in stock");
    assert_eq!(app.ledger_count("refund").await, 1);

    // Again: nothing more changes.
    assert_eq!(refund(&app, &extra).await.0, 200);
    assert_eq!(app.entitlement(&sub).await["files"], base);
    assert_eq!(app.keys("unused/").await.len(), 1);

    // The plan's own refund still ends it all.
    assert_eq!(refund(&app, &plan_order).await.0, 200);
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
    assert_eq!(app.keys("unused/").await.len(), 2);
}

#[tokio::test]
async fn a_provider_refund_of_an_add_on_takes_back_only_its_file() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (sub, _, token) = plan(&app, "bronze").await;
    let base = app.entitlement(&sub).await["files"].clone();
    let extra = addon(&app, "extra-account", &sub, &token, false).await;
    let paid = app.sandbox_pay(&extra, json!({"status": "refunded"})).await;
    assert_eq!(paid["webhook_status"], 200, "{paid}");
    let e = app.entitlement(&sub).await;
    assert_eq!(e["state"], "active");
    assert_eq!(e["files"], base, "the subscription lets the file go in the refund's own commit");
    // The file itself moves on the fulfilment worker (the webhooks function has no S3),
    // and is booked after it moves: wait for both.
    app.eventually("the add-on's file is back in stock and booked", || async {
        app.keys("unused/").await.len() == 1 && app.ledger_count("refund").await == 1
    })
    .await;
    assert_eq!(app.keys("assigned/").await.len(), 1);
}

#[tokio::test]
async fn an_extension_refund_takes_back_only_its_days() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _, token) = plan(&app, "bronze").await;
    let before = until(&app.entitlement(&sub).await);
    let ext = addon(&app, "extend-30", &sub, &token, false).await;
    assert_eq!(until(&app.entitlement(&sub).await), before + 30 * DAY);
    assert_eq!(refund(&app, &ext).await.0, 200);
    let e = app.entitlement(&sub).await;
    assert_eq!(e["state"], "active", "the plan's own days stay");
    assert_eq!(until(&e), before);
    assert_eq!(app.keys("assigned/").await.len(), 1, "no file moves");
    // An extension holds no stock: its checkout must not leave a gap in the
    // ledger (the model test found one).
    let r: Value = app.post_admin("/admin/reconcile", json!({})).await.json().await.unwrap();
    assert_eq!(r["invariants"]["violations"], json!([]), "{r}");
}

#[tokio::test]
async fn a_renewal_refund_never_takes_time_already_used() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _, token) = plan(&app, "bronze").await;
    let renewal = addon(&app, "bronze", &sub, &token, true).await;
    // 40 days on: the plan's 30 are used, and 10 of the renewal's.
    app.post("/sandbox/clock", json!({"advance_seconds": 40 * DAY})).await;
    assert_eq!(refund(&app, &renewal).await.0, 200);
    let now = app.post("/sandbox/clock", json!({"advance_seconds": 0})).await.json::<Value>().await.unwrap();
    let now = Timestamp::parse_rfc3339(now["now"].as_str().unwrap()).unwrap().secs();
    let e = app.entitlement(&sub).await;
    assert!(until(&e) >= now - 1 && until(&e) <= now + 1, "cut back to now, not before: {e}");
    assert_ne!(e["state"], "revoked", "a renewal's refund never revokes");
    assert_eq!(app.keys("assigned/").await.len(), 1);
}

#[tokio::test]
async fn a_partly_paid_order_that_lapsed_shows_the_money_and_can_be_refunded() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.sandbox_pay(&id, json!({"amount": 1000})).await;
    let o = app.wait_for(&id, &token, "partially_paid").await;
    assert!(o["received"].is_string(), "{o}");
    app.post("/sandbox/clock", json!({"advance_seconds": 3600})).await;
    app.post_admin("/admin/expire", json!({})).await;
    let o = app.wait_for(&id, &token, "expired").await;
    assert_eq!(o["received"], json!("10 usdttrc20"), "money received stays visible: {o}");

    let (status, report) = refund(&app, &id).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(app.order(&id, &token).await["status"], "refunded");
    assert_eq!(app.keys("unused/").await.len(), 1);
}

#[tokio::test]
async fn an_order_with_no_money_received_is_not_refunded() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.post("/sandbox/clock", json!({"advance_seconds": 3600})).await;
    app.post_admin("/admin/expire", json!({})).await;
    app.wait_for(&id, &token, "expired").await;
    let (status, p) = problem(app.post_admin(&format!("/admin/orders/{id}/refund"), json!({})).await).await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(app.order(&id, &token).await["status"], "expired");
}

#[tokio::test]
async fn an_overpayment_is_recorded_on_the_order_and_in_an_event() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.sandbox_pay(&id, json!({"amount": 3500})).await;
    let o = app.wait_for(&id, &token, "fulfilled").await;
    assert_eq!(o["overpaid"], json!("5 usdttrc20"), "{o}");
    let events = app.events("order.overpaid").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["order_id"], json!(id));
}

#[tokio::test]
async fn a_staff_refund_of_a_stripe_order_refunds_at_stripe_once() {
    let gw = std::sync::Arc::new(stockroom_tests::gateway::ScriptedGateway::default());
    let app = stockroom_tests::spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (_, order, _) = plan(&app, "bronze").await;
    let (status, report) = refund(&app, &order).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["method"], "stripe");
    assert!(report["refund_id"].as_str().is_some_and(|id| id.starts_with("re_")), "{report}");
    assert_eq!(refund(&app, &order).await.0, 200);
    let asked = gw.refunds.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "a repeat asks Stripe nothing: {asked:?}");
    assert_eq!((asked[0].1, asked[0].2.clone()), (3000, format!("refund-{order}")));
}

#[tokio::test]
async fn stripe_refused_means_nothing_changes() {
    let gw = std::sync::Arc::new(stockroom_tests::gateway::ScriptedGateway::default());
    let app = stockroom_tests::spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (sub, order, token) = plan(&app, "bronze").await;
    gw.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, _) = refund(&app, &order).await;
    assert_eq!(status, 502);
    assert_eq!(app.order(&order, &token).await["status"], "fulfilled");
    assert_eq!(app.entitlement(&sub).await["state"], "active");
}

#[tokio::test]
async fn a_refund_that_came_from_the_provider_is_not_sent_back_to_it() {
    let gw = std::sync::Arc::new(stockroom_tests::gateway::ScriptedGateway::default());
    let app = stockroom_tests::spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(1).await;
    let (sub, order, token) = plan(&app, "bronze").await;
    app.sandbox_pay(&order, json!({"status": "refunded"})).await;
    app.wait_for(&order, &token, "refunded").await;
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
    assert!(gw.refunds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_nowpayments_refund_is_recorded_as_by_hand() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.sandbox_pay(&id, json!({})).await;
    app.wait_for(&id, &token, "fulfilled").await;
    let (status, report) = refund(&app, &id).await;
    assert_eq!((status, report["method"].as_str()), (200, Some("by_hand")), "{report}");
}
