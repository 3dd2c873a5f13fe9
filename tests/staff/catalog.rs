//! `PUT /admin/products/{id}`: validation that changes nothing, a price
//! change that open orders do not see, new and retired plans, and the event
//! every change leaves.

use reqwest::Method;
use serde_json::{Value, json};
use shared::http::auth::Role;
use stockroom_tests::{TestApp, problem, s, spawn_app};

use super::helpers::call;

async fn put(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    call(app, Method::PUT, &format!("/admin/products/{id}"), Some(&app.admin_token()), Some(body)).await
}

async fn product(app: &TestApp, id: &str) -> Value {
    let all = app.get_admin("/admin/products").await;
    all.as_array().unwrap().iter().find(|p| p["id"] == id).cloned().unwrap_or(Value::Null)
}

async fn listed(app: &TestApp) -> Vec<String> {
    let r = app.get("/products").await;
    r.json::<Vec<Value>>().await.unwrap().iter().map(|p| s(&p["id"])).collect()
}

fn bronze_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut b = json!({"name": "Bronze", "tier": "starter", "price": {"amount": 3000, "currency": "USD"},
        "files": 1, "interval_seconds": 3600, "validity_days": 30,
        "quotas": {"posts": {"limit": 720, "hard": true}}});
    f(&mut b);
    b
}

#[tokio::test]
async fn bad_products_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let was = product(&app, "bronze").await;
    let bad: Vec<(&str, Value)> = vec![
        ("negative price", bronze_with(|b| b["price"]["amount"] = json!(-1))),
        ("zero price", bronze_with(|b| b["price"]["amount"] = json!(0))),
        ("unknown currency", bronze_with(|b| b["price"]["currency"] = json!("XYZ"))),
        ("zero files", bronze_with(|b| b["files"] = json!(0))),
        ("zero interval", bronze_with(|b| b["interval_seconds"] = json!(0))),
        ("zero validity", bronze_with(|b| b["validity_days"] = json!(0))),
        ("other id", bronze_with(|b| b["id"] = json!("silver"))),
        ("kind change", bronze_with(|b| b["kind"] = json!("extra_files"))),
        (
            "missing name",
            bronze_with(|b| {
                b.as_object_mut().unwrap().remove("name");
            }),
        ),
        ("not an object", json!([1, 2])),
    ];
    for (what, body) in bad {
        let (status, p) = problem(put(&app, "bronze", body).await).await;
        assert_eq!(status, 400, "{what}: {p}");
        assert_eq!(p["status"], 400);
    }
    let (status, _) = problem(put(&app, "Bad_Id", bronze_with(|_| {})).await).await;
    assert_eq!(status, 400, "a bad id is refused");
    assert_eq!(product(&app, "bronze").await, was);
    assert!(app.events("catalog.product_changed").await.is_empty());
    let im = app.staff_token(Role::InventoryManager);
    let r = call(&app, Method::PUT, "/admin/products/bronze", Some(&im), Some(bronze_with(|_| {}))).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn open_orders_keep_their_price_and_new_ones_pay_the_new_one() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (old_order, old_token, body) = app.checkout_ok("bronze", "nowpayments").await;
    assert_eq!(body["price"]["amount"], 3000);

    let r = put(&app, "bronze", bronze_with(|b| b["price"]["amount"] = json!(4000))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["price"]["amount"], 4000);

    app.sandbox_pay(&old_order, json!({"amount": 3000})).await;
    let o = app.wait_for(&old_order, &old_token, "fulfilled").await;
    assert_eq!(o["price"]["amount"], 3000);
    let r = app.post("/checkout", json!({"email": "new@example.com", "product_id": "bronze", "provider": "stripe"}));
    let new: Value = r.await.json().await.unwrap();
    assert_eq!(new["price"]["amount"], 4000);

    let events = app.events("catalog.product_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "staff:tester");
    assert_eq!(
        (events[0]["before"]["price"]["amount"].as_i64(), events[0]["after"]["price"]["amount"].as_i64()),
        (Some(3000), Some(4000))
    );
}

#[tokio::test]
async fn new_plans_sell_and_retired_ones_renew_only_if_renewable() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    let plat = json!({"name": "Platinum", "tier": "starter", "price": {"amount": 12000, "currency": "EUR"},
        "files": 1, "interval_seconds": 300, "validity_days": 7});
    assert_eq!(put(&app, "platinum", plat.clone()).await.status(), 201);
    assert!(listed(&app).await.contains(&"platinum".to_string()));
    let buyer = json!({"email": "plat@example.com", "product_id": "platinum", "provider": "stripe"});
    let o = app.buy_body(buyer).await;
    assert_eq!((o["price"]["amount"].as_i64(), o["price"]["currency"].as_str()), (Some(12000), Some("EUR")));

    let mut retired = plat.clone();
    retired["retired"] = json!(true);
    retired["renewable"] = json!(false);
    assert_eq!(put(&app, "platinum", retired.clone()).await.status(), 200);
    assert!(!listed(&app).await.contains(&"platinum".to_string()));
    assert_eq!(product(&app, "platinum").await["retired"], true, "staff still see it");
    let again =
        app.post("/checkout", json!({"email": "late@example.com", "product_id": "platinum", "provider": "stripe"}));
    assert_eq!(problem(again.await).await.0, 400);
    let renew = json!({"email": "plat@example.com", "product_id": "platinum", "provider": "stripe",
        "renew_subscription_id": o["subscription"]["id"], "order_token": o["order_token"]});
    assert_eq!(problem(app.post("/checkout", renew.clone()).await).await.0, 400, "not renewable");

    retired["renewable"] = json!(true);
    assert_eq!(put(&app, "platinum", retired).await.status(), 200);
    assert_eq!(app.post("/checkout", renew).await.status(), 201, "renewable");
    let again =
        app.post("/checkout", json!({"email": "late@example.com", "product_id": "platinum", "provider": "stripe"}));
    assert_eq!(problem(again.await).await.0, 400, "still not sold new");
    let events = app.events("catalog.product_changed").await;
    assert_eq!(events.len(), 3);
    assert!(events[0]["before"].is_null(), "the first one created it");
}
