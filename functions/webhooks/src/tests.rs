//! The webhooks function's router on the embedded backend, called with API
//! Gateway v2 events whose bodies API Gateway base64-encoded.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use shared::config::{LOCAL_NOWPAYMENTS_IPN_SECRET, LOCAL_STRIPE_WEBHOOK_SECRET, Payments};
use shared::domain::{OrderStatus, Timestamp};
use shared::http::AppState;
use shared::lambda::testing::{add_stock, call, checkout, config, embedded_state, request};
use shared::providers::{nowpayments, stripe};
use shared::services::orders;
use tempfile::TempDir;

use super::app;

async fn stack(dir: &TempDir, payments: Payments) -> (AppState, Router) {
    let mut cfg = config().unwrap();
    cfg.providers.payments = payments;
    let state = embedded_state(dir.path(), &cfg).unwrap();
    add_stock(&state, &["s1.session", "s2.session"]).await.unwrap();
    (state.clone(), app(state))
}

/// Stripe's event for a paid session of `order`, as sent: pretty-printed,
/// with non-ASCII text, so any re-encoding on the way would break the MAC.
fn stripe_paid(order: &Value) -> String {
    let id = order["order_id"].as_str().unwrap();
    let event = json!({
        "id": "evt_1QxYz", "object": "event", "type": "checkout.session.completed",
        "created": Timestamp::system_now().secs(), "livemode": false,
        "data": {"object": {
            "id": order["payment"]["payment_id"], "object": "checkout.session",
            "client_reference_id": id, "metadata": {"order_id": id, "note": "Abonnement — prémium ✓"},
            "amount_total": order["price"]["amount"], "currency": "usd",
            "payment_status": "paid", "mode": "payment"
        }}
    });
    serde_json::to_string_pretty(&event).unwrap()
}

fn stripe_event(raw: &[u8], signed_over: &[u8]) -> Value {
    let mut e: Value = serde_json::from_str(include_str!("../events/stripe.json")).unwrap();
    let sig = stripe::signature_header(LOCAL_STRIPE_WEBHOOK_SECRET, Timestamp::system_now().secs(), signed_over);
    e["headers"]["stripe-signature"] = json!(sig);
    e["body"] = json!(STANDARD.encode(raw));
    e
}

async fn status_of(state: &AppState, order_id: &str) -> OrderStatus {
    orders::load(&state.ctx, order_id).await.unwrap().unwrap().order.status
}

#[tokio::test]
async fn a_base64_stripe_webhook_is_verified_over_the_decoded_bytes() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir, Payments::Sandbox).await;
    let order = checkout(&state, "buyer@example.com", "stripe").await.unwrap();
    let id = order["order_id"].as_str().unwrap();
    let raw = stripe_paid(&order);

    let (status, body) = call(&app, request(&stripe_event(raw.as_bytes(), raw.as_bytes())).unwrap()).await.unwrap();
    assert_eq!((status, &body), (StatusCode::OK, &json!({"received": true})));
    assert_eq!(status_of(&state, id).await, OrderStatus::Paid);
    let queued = state.ctx.fulfil_queue.receive(10, Duration::from_secs(30)).await.unwrap();
    assert!(queued.iter().any(|m| m.body.contains(id)), "{queued:?}");
}

#[tokio::test]
async fn a_body_that_differs_from_what_was_signed_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir, Payments::Sandbox).await;
    let order = checkout(&state, "buyer@example.com", "stripe").await.unwrap();
    let raw = stripe_paid(&order);
    // Same JSON, compact: equal as data, not as bytes.
    let compact = serde_json::to_string(&serde_json::from_str::<Value>(&raw).unwrap()).unwrap();

    let (status, _) = call(&app, request(&stripe_event(compact.as_bytes(), raw.as_bytes())).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&state, order["order_id"].as_str().unwrap()).await, OrderStatus::Pending);
}

#[tokio::test]
async fn a_base64_nowpayments_ipn_is_accepted() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir, Payments::Sandbox).await;
    let order = checkout(&state, "buyer@example.com", "nowpayments").await.unwrap();
    let id = order["order_id"].as_str().unwrap();
    let pay = &order["payment"];
    let raw = format!(
        r#"{{"payment_id":{},"parent_payment_id":null,"payment_status":"finished","order_id":"{id}",
"price_amount":30,"price_currency":"usd","pay_amount":{},"actually_paid":{},"pay_currency":"{}"}}"#,
        pay["payment_id"].as_str().unwrap(),
        pay["pay_amount"].as_str().unwrap(),
        pay["pay_amount"].as_str().unwrap(),
        pay["pay_currency"].as_str().unwrap(),
    );
    let mut e: Value = serde_json::from_str(include_str!("../events/nowpayments.json")).unwrap();
    e["headers"]["x-nowpayments-sig"] = json!(nowpayments::sign(LOCAL_NOWPAYMENTS_IPN_SECRET, raw.as_bytes()).unwrap());
    e["body"] = json!(STANDARD.encode(&raw));

    let (status, body) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(status_of(&state, id).await, OrderStatus::Paid);

    e["headers"]["x-nowpayments-sig"] = json!("00");
    let (status, _) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sandbox_pay_route_exists_only_with_the_sandbox() {
    let dir = TempDir::new().unwrap();
    let mut e: Value = serde_json::from_str(include_str!("../events/stripe.json")).unwrap();
    e["rawPath"] = json!("/sandbox/pay/01JNOSUCHORDER0000000000000");
    e["requestContext"]["http"]["path"] = e["rawPath"].clone();
    e["body"] = json!("");

    let (_state, live) = stack(&dir, Payments::Live).await;
    let (status, _) = call(&live, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let dir = TempDir::new().unwrap();
    let (_state, sandbox) = stack(&dir, Payments::Sandbox).await;
    let (status, problem) = call(&sandbox, request(&e).unwrap()).await.unwrap();
    // Routed: the order is what is missing.
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap_or_default().contains("no order"), "{problem}");
}
