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

/// A correctly signed NOWPayments IPN "finished" for a bronze order ($30),
/// with `pay_amount` and `actually_paid` as the given raw JSON tokens.
fn ipn_with_amounts(secret: &str, order_id: &str, payment_id: u64, pay_amount: &str, paid: &str) -> (Vec<u8>, String) {
    let body = format!(
        r#"{{"payment_id":{payment_id},"parent_payment_id":null,"payment_status":"finished","pay_address":"addr","price_amount":30,"price_currency":"usd","pay_amount":{pay_amount},"actually_paid":{paid},"pay_currency":"usdttrc20","order_id":"{order_id}","order_description":"plan","purchase_id":"1"}}"#
    );
    let sig = shared::providers::nowpayments::sign(secret, body.as_bytes()).expect("sign");
    (body.into_bytes(), sig)
}

#[tokio::test]
async fn signed_ipns_with_negative_or_impossible_amounts_are_400_and_change_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid = stockroom_tests::webhooks::payment_id(&body);
    let cases = [
        ("-1", "-1"),
        ("30", "-1"),
        ("-30", "30"),
        ("30", "-0.000001"),
        ("30", "1e400"),
        ("1e400", "1e400"),
        ("30", r#""NaN""#),
        ("30", r#""Infinity""#),
        (r#""-inf""#, "30"),
        ("30", "79228162514264337593543950336"),
    ];
    for (i, (pay_amount, paid)) in cases.into_iter().enumerate() {
        let (raw, sig) = ipn_with_amounts(app.nowpayments_secret(), &order_id, pid + i as u64, pay_amount, paid);
        let (status, body) =
            problem(app.post_raw("/webhooks/nowpayments", raw, &[("x-nowpayments-sig", sig)]).await).await;
        assert_eq!(status, 400, "pay_amount {pay_amount}, actually_paid {paid}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
    assert!(app.keys("assigned/").await.is_empty());
    // The same order still takes a real payment afterwards: nothing was recorded.
    let (raw, sig) = ipn_with_amounts(app.nowpayments_secret(), &order_id, pid, "30", "30");
    assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &[("x-nowpayments-sig", sig)]).await.status(), 200);
    app.wait_for(&order_id, &token, "fulfilled").await;
}
