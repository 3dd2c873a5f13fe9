use serde_json::{Value, json};
use shared::domain::Timestamp;
use stockroom_tests::{TestApp, problem, s, spawn_app};

const DAY: i64 = 86_400;

fn until(e: &Value) -> i64 {
    Timestamp::parse_rfc3339(e["valid_until"].as_str().unwrap()).unwrap().secs()
}

async fn plan(app: &TestApp, product: &str) -> (String, String) {
    let o = app.buy_body(json!({"email": "ann@example.com", "product_id": product, "provider": "stripe"})).await;
    (s(&o["subscription"]["id"]), s(&o["order_token"]))
}

#[tokio::test]
async fn a_renewal_in_grace_extends_from_valid_until_and_keeps_the_files() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, token) = plan(&app, "bronze").await;
    let before = until(&app.entitlement(&sub).await);
    app.post("/sandbox/clock", json!({"advance_seconds": 30 * DAY + 3600})).await;
    app.post_admin("/admin/expire", json!({})).await;
    assert_eq!(app.entitlement(&sub).await["state"], "grace");
    let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "stripe", "renew_subscription_id": sub, "order_token": token});
    app.buy_body(body).await;
    let e = app.entitlement(&sub).await;
    assert_eq!((e["state"].as_str(), e["can_run"].as_bool()), (Some("active"), Some(true)));
    assert_eq!(until(&e), before + 30 * DAY);
    assert_eq!(app.ledger_count("hold").await, 1, "a live renewal holds no stock");
    assert_eq!(app.keys("assigned/").await.len(), 1);
}

#[tokio::test]
async fn a_renewal_after_expiry_gets_files_again() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, token) = plan(&app, "bronze").await;
    app.post("/sandbox/clock", json!({"advance_seconds": 32 * DAY})).await;
    app.post_admin("/admin/expire", json!({})).await;
    assert!(app.keys("assigned/").await.is_empty());
    let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "stripe", "renew_subscription_id": sub, "order_token": token});
    let o = app.buy_body(body).await;
    let e = app.entitlement(&s(&o["subscription"]["id"])).await;
    assert_eq!(e["state"], "active");
    assert_eq!(e["files"].as_array().unwrap().len(), 1);
    assert_eq!(app.keys("assigned/").await.len(), 1);
}

/// The files of a renewal bought after its subscription ended belong to the
/// new subscription, though the order names the old one: staff can ban them.
#[tokio::test]
async fn staff_can_ban_a_file_of_a_renewal_after_expiry() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (sub, token) = plan(&app, "bronze").await;
    app.post("/sandbox/clock", json!({"advance_seconds": 32 * DAY})).await;
    app.post_admin("/admin/expire", json!({})).await;
    let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "stripe", "renew_subscription_id": sub, "order_token": token});
    let renewed = s(&app.buy_body(body).await["subscription"]["id"]);
    let file = s(&app.entitlement(&renewed).await["files"][0]);
    let name = file.rsplit('/').next().unwrap_or_default().to_string();
    let ban = json!({"action": "ban", "files": [name], "reason": "platform ban"});
    let r: Value = app.post_admin("/admin/stock/adjust", ban).await.json().await.unwrap();
    assert_eq!(r["results"][0]["outcome"], "replaced", "{r}");
    let e = app.entitlement(&renewed).await;
    assert_eq!(e["files"].as_array().unwrap().len(), 1);
    assert_ne!(s(&e["files"][0]), file);
    assert_eq!(app.keys("banned/").await.len(), 1);
}

#[tokio::test]
async fn an_extra_account_adds_a_file_to_the_same_buyer() {
    let app = spawn_app().await;
    app.add_stock(5).await;
    let (sub, token) = plan(&app, "gold").await;
    let body = json!({"email": "ann@example.com", "product_id": "extra-account", "provider": "nowpayments", "subscription_id": sub, "order_token": token});
    app.buy_body(body).await;
    let e = app.entitlement(&sub).await;
    let files = e["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    let user = files[0].as_str().unwrap().split('/').nth(1).unwrap().to_string();
    assert!(files.iter().all(|f| f.as_str().unwrap().starts_with(&format!("assigned/{user}/"))));
    assert_eq!(app.keys("assigned/").await.len(), 4);
    assert_eq!(app.ledger_count("sale").await, 4);
}

#[tokio::test]
async fn an_extension_adds_days_only_to_plans_it_may_extend() {
    let app = spawn_app().await;
    app.add_stock(4).await;
    let (sub, token) = plan(&app, "bronze").await;
    let before = until(&app.entitlement(&sub).await);
    let body = json!({"email": "ann@example.com", "product_id": "extend-30", "provider": "stripe", "subscription_id": sub, "order_token": token});
    app.buy_body(body).await;
    assert_eq!(until(&app.entitlement(&sub).await), before + 30 * DAY);
    let (gold, gold_token) = plan(&app, "gold").await;
    let body = json!({"email": "ann@example.com", "product_id": "extend-30", "provider": "stripe", "subscription_id": gold, "order_token": gold_token});
    let (status, _) = problem(app.post("/checkout", body).await).await;
    assert_eq!(status, 400, "an extension is never a cheap renewal");
}

#[tokio::test]
async fn add_ons_need_the_subscriptions_order_token_or_the_buyers_session() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (sub, _) = plan(&app, "bronze").await;
    let wrong = json!({"email": "ann@example.com", "product_id": "extra-account", "provider": "stripe", "subscription_id": sub, "order_token": "ot_00"});
    assert_eq!(problem(app.post("/checkout", wrong).await).await.0, 404);
    let none = json!({"email": "ann@example.com", "product_id": "extra-account", "provider": "stripe"});
    assert_eq!(problem(app.post("/checkout", none).await).await.0, 400);
    let no_token =
        json!({"email": "ann@example.com", "product_id": "bronze", "provider": "stripe", "renew_subscription_id": sub});
    assert_eq!(problem(app.post("/checkout", no_token).await).await.0, 401, "no proof at all");
}
