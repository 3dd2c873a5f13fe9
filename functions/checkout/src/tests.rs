//! The checkout function's router on the embedded backend, called with API
//! Gateway v2 events as lambda_http builds them.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shared::config::Config;
use shared::lambda::testing::{add_stock, call, config, embedded_state, request};
use tempfile::TempDir;

use super::app;

fn event(fixture: &str) -> Value {
    serde_json::from_str(fixture).unwrap()
}

/// The checkout fixture from another address, for another buyer.
fn checkout_from(ip: &str, email: &str) -> Value {
    let mut e = event(include_str!("../events/checkout.json"));
    e["requestContext"]["http"]["sourceIp"] = json!(ip);
    e["headers"].as_object_mut().unwrap().remove("idempotency-key");
    e["body"] = json!(json!({"email": email, "product_id": "bronze", "provider": "stripe"}).to_string());
    e
}

async fn router(dir: &TempDir, cfg: &Config) -> axum::Router {
    let state = embedded_state(dir.path(), cfg).unwrap();
    add_stock(&state, &["s1.session", "s2.session", "s3.session", "s4.session"]).await.unwrap();
    app(state).await.unwrap()
}

#[tokio::test]
async fn the_cold_start_seeds_the_catalog() {
    let dir = TempDir::new().unwrap();
    let app = router(&dir, &config().unwrap()).await;
    let (status, products) =
        call(&app, request(&event(include_str!("../events/products.json"))).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{products}");
    let plans: Vec<&str> =
        products.as_array().unwrap().iter().filter(|p| p["kind"] == "plan").filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(plans, ["bronze", "silver", "gold", "diamond", "basic", "pro", "elite"], "{products}");
}

#[tokio::test]
async fn a_checkout_holds_stock_and_its_order_reads_back_with_the_token() {
    let dir = TempDir::new().unwrap();
    let app = router(&dir, &config().unwrap()).await;
    let (status, order) = call(&app, request(&event(include_str!("../events/checkout.json"))).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (id, token) = (order["order_id"].as_str().unwrap(), order["order_token"].as_str().unwrap());

    let mut read = event(include_str!("../events/order.json"));
    let path = format!("/orders/{id}");
    read["rawPath"] = json!(path);
    read["requestContext"]["http"]["path"] = json!(path);
    read["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let (status, view) = call(&app, request(&read).unwrap()).await.unwrap();
    assert_eq!((status, view["status"].as_str()), (StatusCode::OK, Some("pending")), "{view}");

    read["headers"]["authorization"] = json!("Bearer ot_00");
    let (status, _) = call(&app, request(&read).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn holds_per_address_count_api_gateways_source_ip_not_forwarded_headers() {
    let dir = TempDir::new().unwrap();
    let mut cfg = config().unwrap();
    cfg.limits.pending_per_ip = 1;
    let app = router(&dir, &cfg).await;
    // Every event claims the same X-Forwarded-For; only sourceIp differs.
    let (status, body) = call(&app, request(&checkout_from("203.0.113.7", "a@example.com")).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(&app, request(&checkout_from("203.0.113.7", "b@example.com")).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, body) = call(&app, request(&checkout_from("203.0.113.8", "c@example.com")).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn other_functions_routes_are_not_served_here() {
    let dir = TempDir::new().unwrap();
    let app = router(&dir, &config().unwrap()).await;
    let mut e = event(include_str!("../events/products.json"));
    e["rawPath"] = json!("/admin/stock");
    e["requestContext"]["http"]["path"] = json!("/admin/stock");
    let (status, problem) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404, "{problem}");
}

/// The checkout function serves the buyer's pages and their assets.
#[tokio::test]
async fn the_shop_page_and_its_assets_are_served_here() {
    use tower::ServiceExt;
    let dir = TempDir::new().unwrap();
    let app = router(&dir, &config().unwrap()).await;
    for (path, kind) in [("/shop", "text/html"), ("/account", "text/html"), ("/assets/shop.js", "text/javascript")] {
        let mut e = event(include_str!("../events/products.json"));
        e["rawPath"] = json!(path);
        e["requestContext"]["http"]["path"] = json!(path);
        let resp = app.clone().oneshot(request(&e).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let header =
            |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(header("content-type").starts_with(kind), "{path}: {}", header("content-type"));
        assert!(header("content-security-policy").starts_with("default-src 'self'"), "{path}");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        if path == "/shop" {
            assert!(String::from_utf8_lossy(&body).contains("/assets/shop.js?v="), "the page names its script");
        }
    }
}
