use serde_json::{Value, json};
use stockroom_tests::{s, spawn_app};

#[tokio::test]
async fn products_list_the_catalog_with_stock_flags() {
    let app = spawn_app().await;
    let products: Value = app.get("/products").await.json().await.unwrap();
    let list = products.as_array().unwrap();
    let plans: Vec<&Value> = list.iter().filter(|p| p["kind"] == "plan").collect();
    assert_eq!(plans.len(), 7);
    assert!(plans.iter().all(|p| p["in_stock"] == false), "no stock yet");
    assert_eq!(list.len(), 9, "and two add-ons");
    app.add_stock(3).await;
    let products: Value = app.get("/products").await.json().await.unwrap();
    let stocked: Vec<String> = products
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in_stock"] == true && p["kind"] == "plan")
        .map(|p| s(&p["id"]))
        .collect();
    assert_eq!(stocked, ["bronze", "silver", "gold", "basic"], "plans of up to 3 files");
    let bronze = &products[0];
    assert_eq!(bronze["price"], json!({"amount": 3000, "currency": "USD"}));
    assert_eq!((bronze["files"].as_u64(), bronze["interval_seconds"].as_u64()), (Some(1), Some(3600)));
}

async fn buy(provider: &str, product: &str, files: usize) {
    let app = spawn_app().await;
    let stock = app.add_stock(files + 1).await;
    let (order_id, token, body) = app.checkout_ok(product, provider).await;
    assert_eq!(body["status"], "pending");
    assert_eq!(body["payment"]["provider"], provider);
    assert!(body["payment"]["payment_id"].as_str().is_some_and(|p| !p.is_empty()));
    let sent = app.sandbox_pay(&order_id, json!({})).await;
    assert_eq!(sent["webhook_status"], 200, "{sent}");
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    let sub = &order["subscription"];
    assert_eq!(sub["state"], "active");
    let got: Vec<String> = sub["files"].as_array().unwrap().iter().map(s).collect();
    assert_eq!(got.len(), files);
    assert!(got.iter().all(|f| stock.contains(f)));
    let assigned = app.keys("assigned/").await;
    assert_eq!(assigned.len(), files);
    for f in &got {
        assert!(assigned.iter().any(|k| k.ends_with(&format!("/{f}"))), "{f} is under assigned/");
    }
    assert_eq!(app.keys("unused/").await.len(), 1);
    assert_eq!(app.ledger_count("sale").await, files);
}

#[tokio::test]
async fn a_nowpayments_purchase_moves_the_file_to_the_buyer() {
    buy("nowpayments", "bronze", 1).await;
}

#[tokio::test]
async fn a_stripe_purchase_moves_three_files_to_the_buyer() {
    buy("stripe", "gold", 3).await;
}

#[tokio::test]
async fn a_lapsed_hold_expires_the_order_and_frees_the_stock() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    assert_eq!(app.checkout("bronze", "stripe").await.status(), 409, "the one file is held");
    let r = app.post("/sandbox/clock", json!({"advance_seconds": 31 * 60})).await;
    assert_eq!(r.status(), 200);
    let report: Value = app.post_admin("/admin/expire", json!({})).await.json().await.unwrap();
    assert_eq!(report["holds_released"], 1);
    assert_eq!(app.order(&order_id, &token).await["status"], "expired");
    assert_eq!(app.ledger_count("release").await, 1);
    let (_, _, _) = app.checkout_ok("bronze", "stripe").await;
}

#[tokio::test]
async fn a_payment_after_the_hold_lapsed_is_fulfilled_or_backordered_never_lost() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (late, late_token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.post("/sandbox/clock", json!({"advance_seconds": 31 * 60})).await;
    app.post_admin("/admin/expire", json!({})).await;
    // Someone else buys the freed file first.
    let (other, other_token, _) = app.checkout_ok("bronze", "stripe").await;
    app.sandbox_pay(&other, json!({})).await;
    app.wait_for(&other, &other_token, "fulfilled").await;
    // The late payer's money arrives: no stock, so backordered and visible.
    app.sandbox_pay(&late, json!({})).await;
    app.wait_for(&late, &late_token, "backordered").await;
    // New stock fills the backorder.
    app.add_stock(1).await;
    let order = app.wait_for(&late, &late_token, "fulfilled").await;
    assert_eq!(order["subscription"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(app.keys("assigned/").await.len(), 2);
}
