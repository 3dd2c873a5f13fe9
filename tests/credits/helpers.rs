//! Buying, gifting and reading credits over HTTP, and the invariant check
//! every test runs after every step.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, s};

pub const HOLD_SECS: i64 = 48 * 3600;

/// The customer's credits as staff see them, after checking that the
/// account equals the sum of its entries (from the store and from the view).
pub async fn credits(app: &TestApp, email: &str) -> Value {
    let audit = shared::services::credits::audit(app.ctx(), email).await.expect("audit");
    assert!(audit.ok(), "account differs from its entries: {audit:?}");
    let t = app.admin_token();
    let url = format!("{}/admin/customers/{email}/credits", app.url);
    let r = app.client.get(url).bearer_auth(t).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    let entries = v["entries"].as_array().expect("entries");
    let posted: i64 = entries.iter().map(|e| e["posted"].as_i64().expect("posted")).sum();
    assert_eq!(v["posted"].as_i64(), Some(posted), "balance = sum of posted entries: {v}");
    assert_eq!(v["spendable"].as_i64(), Some(posted - v["pending_out"].as_i64().unwrap_or(0)));
    v
}

/// (posted, pending_in, pending_out), checked.
pub async fn balance(app: &TestApp, email: &str) -> (i64, i64, i64) {
    let v = credits(app, email).await;
    (v["posted"].as_i64().unwrap(), v["pending_in"].as_i64().unwrap(), v["pending_out"].as_i64().unwrap())
}

pub async fn kinds(app: &TestApp, email: &str, kind: &str) -> usize {
    let v = credits(app, email).await;
    v["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).count()
}

pub async fn gift(app: &TestApp, email: &str, amount: i64) -> String {
    let r = app.post_admin("/admin/credits/gifts", json!({"email": email, "amount": amount, "reason": "test"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["amount"], amount);
    s(&v["id"])
}

/// `extra` joins the body, but for `session`: a bearer token to send.
pub async fn checkout(app: &TestApp, email: &str, product: &str, mut extra: Value) -> reqwest::Response {
    let mut body = json!({"email": email, "product_id": product, "provider": "nowpayments", "new": true});
    let session = extra.as_object_mut().and_then(|e| e.remove("session"));
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    match session {
        Some(t) => app.post_as(t.as_str().unwrap_or_default(), "/checkout", body).await,
        None => app.post("/checkout", body).await,
    }
}

/// A paid, fulfilled purchase of `product` (stock added for it).
pub async fn buy(app: &TestApp, email: &str, product: &str) -> (String, String) {
    app.add_stock(1).await;
    let r = checkout(app, email, product, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    let (id, token) = (s(&v["order_id"]), s(&v["order_token"]));
    app.sandbox_pay(&id, json!({})).await;
    app.wait_for(&id, &token, "fulfilled").await;
    (id, token)
}

/// Polls until the customer's credits satisfy `ok` (earning follows
/// fulfilment on the worker).
pub async fn wait_credits(app: &TestApp, email: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let v = credits(app, email).await;
        if ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("credits of {email} never got there: {}", credits(app, email).await);
}

pub async fn advance(app: &TestApp, secs: i64) {
    let r = app.post("/sandbox/clock", json!({"advance_seconds": secs})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

pub async fn run_job(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/credits/post", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

pub async fn deactivate_order(app: &TestApp, order_id: &str) -> Value {
    let r = app.post_admin(&format!("/admin/orders/{order_id}/deactivate"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}
