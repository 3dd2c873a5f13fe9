//! The credit a purchase earns is written in the transaction that fulfils
//! it: there the moment the order is fulfilled, for plans and add-ons alike,
//! and never for a purchase deactivated before it was fulfilled.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, s, spawn_app_with};

use super::helpers::*;

const ANN: &str = "ann@example.com";

/// References of the customer's earn entries, read with no waiting.
async fn earned(app: &TestApp) -> Vec<(String, i64)> {
    let v = credits(app, ANN).await;
    let entries = v["entries"].as_array().expect("entries");
    entries
        .iter()
        .filter(|e| e["kind"] == "earn")
        .map(|e| (s(&e["reference"]), e["amount"].as_i64().unwrap_or(0)))
        .collect()
}

#[tokio::test]
async fn plans_renewals_and_extra_files_earn_as_they_are_fulfilled() {
    // $1 a credit: each purchase earns its price in dollars.
    let app = spawn_app_with(|c| c.credits.minor_per_credit = 100).await;
    app.add_stock(5).await;
    let plan = app.buy_body(json!({"email": ANN, "product_id": "bronze", "provider": "stripe"})).await;
    let (sub, token) = (s(&plan["subscription"]["id"]), s(&plan["order_token"]));
    assert_eq!(earned(&app).await.len(), 1, "earned when fulfilled");
    let renew = json!({"email": ANN, "product_id": "bronze", "provider": "stripe", "renew_subscription_id": sub, "order_token": token});
    let renewal = app.buy_body(renew).await;
    assert_eq!(earned(&app).await.len(), 2, "a renewal (no files) earns when fulfilled");
    let extra = json!({"email": ANN, "product_id": "extra-account", "provider": "nowpayments", "subscription_id": sub, "order_token": token});
    let extra = app.buy_body(extra).await;
    let got = earned(&app).await;
    let refs: BTreeSet<String> = got.iter().map(|(r, _)| r.clone()).collect();
    let want: BTreeSet<String> = [&plan, &renewal, &extra].iter().map(|o| s(&o["order_id"])).collect();
    assert_eq!(refs, want, "one earn per order: {got:?}");
    assert!(got.iter().all(|(_, amount)| *amount > 0), "{got:?}");
    let pending: i64 = got.iter().map(|(_, a)| a).sum();
    assert_eq!(balance(&app, ANN).await, (0, pending, 0));
}

#[tokio::test]
async fn a_purchase_deactivated_before_fulfilment_is_fulfilled_without_credit() {
    let app = spawn_app_with(|c| c.credits.minor_per_credit = 100).await;
    app.add_stock(1).await;
    let r = checkout(&app, ANN, "bronze", json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.expect("json");
    let (id, token) = (s(&c["order_id"]), s(&c["order_token"]));
    let d = deactivate_order(&app, &id).await;
    assert_eq!((d["credits"].as_str(), d["amount"].as_i64()), (Some("unchanged"), Some(0)));
    app.sandbox_pay(&id, json!({})).await;
    let o = app.wait_for(&id, &token, "fulfilled").await;
    assert_eq!(o["subscription"]["files"].as_array().map(Vec::len), Some(1), "{o}");
    assert!(earned(&app).await.is_empty(), "a deactivated purchase earns nothing");
    assert_eq!(balance(&app, ANN).await, (0, 0, 0));
}
