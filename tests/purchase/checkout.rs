use std::sync::Arc;

use serde_json::{Value, json};
use stockroom_tests::{problem, spawn_app};
use tokio::task::JoinSet;

#[tokio::test]
async fn twenty_concurrent_checkouts_for_five_files_sell_exactly_five() {
    let app = spawn_app().await;
    app.add_stock(5).await;
    let app = Arc::new(app);
    let mut set = JoinSet::new();
    for i in 0..20 {
        let app = app.clone();
        set.spawn(async move {
            let body = json!({"email": format!("b{i}@example.com"), "product_id": "bronze", "provider": "stripe"});
            let r = app.post("/checkout", body).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        });
    }
    let (mut created, mut refused) = (0, 0);
    while let Some(res) = set.join_next().await {
        let (status, body) = res.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert!(body["type"].as_str().unwrap().ends_with("/insufficient-stock"), "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, refused), (5, 15));
    assert_eq!(app.ledger_count("hold").await, 5);
    let products: Value = app.get("/products").await.json().await.unwrap();
    assert_eq!(products[0]["in_stock"], false);
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_same_order() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let body =
        json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments", "pay_currency": "btc"});
    let send = |b: Value| {
        app.client.post(format!("{}/checkout", app.url)).header("Idempotency-Key", "key-123").json(&b).send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "same order, same token, same payment");
    let mut other = body.clone();
    other["product_id"] = json!("silver");
    let (status, p) = problem(send(other).await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(p["type"].as_str().unwrap().ends_with("/idempotency-key-reused"));
    assert_eq!(app.ledger_count("hold").await, 1, "one hold only");
}

#[tokio::test]
async fn concurrent_requests_with_one_key_make_one_order() {
    let app = Arc::new(spawn_app().await);
    app.add_stock(10).await;
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let app = app.clone();
        set.spawn(async move {
            let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "stripe"});
            let r = app
                .client
                .post(format!("{}/checkout", app.url))
                .header("Idempotency-Key", "same")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(res) = set.join_next().await {
        let (status, body) = res.unwrap();
        assert!(matches!(status, 200 | 201 | 409), "{status} {body}");
        if status != 409 {
            ids.insert(body["order_id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.ledger_count("hold").await, 1);
}

#[tokio::test]
async fn the_order_needs_its_token() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    for auth in [None, Some("ot_00".to_string()), Some(format!("{token}0"))] {
        let mut req = app.client.get(format!("{}/orders/{order_id}", app.url));
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        let (status, _) = problem(req.send().await.unwrap()).await;
        assert_eq!(status, 404);
    }
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
}

/// A checkout's answer holds the order token, a refusal a problem: no cache
/// (browser, proxy) may keep either; pages say their own policy.
#[tokio::test]
async fn api_answers_are_never_stored_by_a_cache() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let cache =
        |r: &reqwest::Response| r.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(String::from);
    let made = app.checkout("bronze", "stripe").await;
    assert_eq!(made.status().as_u16(), 201);
    assert_eq!(cache(&made).as_deref(), Some("no-store"));
    let refused = app.post("/checkout", json!({"email": "nobody"})).await;
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(cache(&refused).as_deref(), Some("no-store"));
    assert_eq!(cache(&app.get("/no-such-route").await).as_deref(), Some("no-store"));
    assert_eq!(cache(&app.get("/shop").await).as_deref(), Some("no-cache"));
}
