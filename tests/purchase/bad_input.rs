use serde_json::json;
use stockroom_tests::{problem, spawn_app};

#[tokio::test]
async fn bad_checkouts_get_problems_and_hold_nothing() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let raw = |b: &str| app.post_raw("/checkout", b.as_bytes().to_vec(), &[]);
    let cases: Vec<(reqwest::Response, u16)> = vec![
        (raw("{not json").await, 400),
        (raw("").await, 400),
        (raw("[]").await, 400),
        (app.post("/checkout", json!({"email": "ann@example.com", "product_id": "platinum", "provider": "stripe"})).await, 400),
        (app.post("/checkout", json!({"email": "not-an-email", "product_id": "bronze", "provider": "stripe"})).await, 400),
        (app.post("/checkout", json!({"email": "ann@example.com", "product_id": "bronze", "provider": "paypal"})).await, 400),
        (app.post("/checkout", json!({"email": "ann@example.com", "product_id": "bronze"})).await, 400),
        (app.post("/checkout", json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments", "pay_currency": "b t c"})).await, 400),
        (raw(&format!("{{\"email\": \"{}\"}}", "a".repeat(300 * 1024))).await, 413),
    ];
    for (r, want) in cases {
        let (status, _) = problem(r).await;
        assert_eq!(status.as_u16(), want);
    }
    assert_eq!(app.ledger_count("hold").await, 0);
}

#[tokio::test]
async fn bad_webhook_bodies_are_400_after_a_good_signature() {
    let app = spawn_app().await;
    let body = b"{\"hello\": 1}".to_vec();
    let sig = shared::providers::nowpayments::sign(app.nowpayments_secret(), &body).unwrap();
    let (status, _) = problem(app.post_raw("/webhooks/nowpayments", body, &[("x-nowpayments-sig", sig)]).await).await;
    assert_eq!(status, 400);
    let (status, _) = problem(
        app.post_raw("/webhooks/nowpayments", b"not json".to_vec(), &[("x-nowpayments-sig", "ab".into())]).await,
    )
    .await;
    assert!(status == 400 || status == 401);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let (status, _) = problem(app.get("/nope").await).await;
    assert_eq!(status, 404);
    let (status, _) = problem(app.get("/checkout").await).await;
    assert_eq!(status, 405);
    let (status, _) = problem(app.client.post(format!("{}/admin/reconcile", app.url)).send().await.unwrap()).await;
    assert_eq!(status, 401);
    let cs = app.staff_token(shared::http::auth::Role::CustomerService);
    let (status, _) =
        problem(app.client.post(format!("{}/admin/reconcile", app.url)).bearer_auth(cs).send().await.unwrap()).await;
    assert_eq!(status, 403);
}
