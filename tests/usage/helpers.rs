use reqwest::Response;
use serde_json::{Value, json};
use shared::config::LOCAL_SERVICE_TOKEN;
use shared::domain::Product;
use shared::services::items::{from_item, to_item};
use shared::services::keys;
use stockroom_tests::{TestApp, s};

pub const DAY: i64 = 86_400;

/// Changes a catalog entry in the store (staff edits live there).
pub async fn set_plan(app: &TestApp, id: &str, f: impl FnOnce(&mut Product)) {
    let key = keys::product(id);
    let item = app.ctx().records.get(&key).await.unwrap().unwrap();
    let mut p: Product = from_item(item).unwrap();
    f(&mut p);
    let p = p.validate().expect("a valid test plan");
    app.ctx().records.put(to_item(&key, &p, None, None).unwrap(), None).await.unwrap();
}

/// A new subscription to `product`: (subscription id, order token).
pub async fn buy(app: &TestApp, product: &str) -> (String, String) {
    let o = app.buy_body(json!({"email": "ann@example.com", "product_id": product, "provider": "stripe"})).await;
    (s(&o["subscription"]["id"]), s(&o["order_token"]))
}

pub async fn report(app: &TestApp, sub: &str, body: Value) -> Response {
    let url = format!("{}/subscriptions/{sub}/usage", app.url);
    app.client.post(url).bearer_auth(LOCAL_SERVICE_TOKEN).json(&body).send().await.unwrap()
}

/// A report that must be accepted: its receipt.
pub async fn posts(app: &TestApp, sub: &str, key: &str, quantity: i64) -> Value {
    let r = report(app, sub, json!({"metric": "posts", "quantity": quantity, "idempotency_key": key})).await;
    assert_eq!(r.status(), 200, "report {key}");
    r.json().await.unwrap()
}

pub fn used(e: &Value) -> Option<u64> {
    e["usage"]["posts"]["used"].as_u64()
}

pub async fn advance(app: &TestApp, secs: i64) {
    let r = app.post("/sandbox/clock", json!({"advance_seconds": secs})).await;
    assert_eq!(r.status(), 200);
}

/// Runs the expiry schedule (which runs the usage jobs): its report.
pub async fn expire(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/expire", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn history(app: &TestApp, sub: &str) -> Value {
    let url = format!("{}/admin/subscriptions/{sub}/usage", app.url);
    let r = app.client.get(url).bearer_auth(app.admin_token()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Sends all the reports at once: (status, body) of each.
pub async fn reports_at_once(app: &TestApp, sub: &str, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for body in bodies {
        let (client, url) = (app.client.clone(), format!("{}/subscriptions/{sub}/usage", app.url));
        set.spawn(async move {
            let r = client.post(url).bearer_auth(LOCAL_SERVICE_TOKEN).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    set.join_all().await
}
