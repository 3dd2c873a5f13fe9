//! The admin function's router on the embedded backend, called with API
//! Gateway v2 events: staff JWTs checked per route and role.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use shared::domain::Timestamp;
use shared::http::AppState;
use shared::http::auth::{Role, mint};
use shared::lambda::testing::{add_stock, call, call_text, config, embedded_state, request};
use tempfile::TempDir;

use super::app;

async fn stack(dir: &TempDir) -> (AppState, Router) {
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    add_stock(&state, &["s1.session", "s2.session"]).await.unwrap();
    (state.clone(), app(state))
}

fn token(state: &AppState, role: Role) -> String {
    mint(&state.auth.jwt_secret, "staff-1", role, Timestamp::system_now().secs() + 600).unwrap()
}

fn event(fixture: &str, bearer: &str) -> Value {
    let mut e: Value = serde_json::from_str(fixture).unwrap();
    e["headers"]["authorization"] = json!(format!("Bearer {bearer}"));
    e
}

#[tokio::test]
async fn stock_is_counted_for_every_staff_role() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir).await;
    let e = event(include_str!("../events/stock.json"), &token(&state, Role::CustomerService));
    let (status, stock) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{stock}");
    assert_eq!((stock["unused"].as_i64(), stock["available"].as_i64()), (Some(2), Some(2)), "{stock}");
}

#[tokio::test]
async fn tokens_are_checked_before_anything_runs() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir).await;
    let mut unsigned = event(include_str!("../events/stock.json"), "x");
    unsigned["headers"].as_object_mut().unwrap().remove("authorization");
    let (status, _) = call(&app, request(&unsigned).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let other_key =
        mint(&"another-secret-of-enough-length!".to_string().into(), "x", Role::Admin, i64::MAX / 2).unwrap();
    let (status, _) =
        call(&app, request(&event(include_str!("../events/stock.json"), &other_key)).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    state.ctx.files.put("unused/new.session", b"x".to_vec(), true).await.unwrap();
    let e = event(include_str!("../events/reconcile.json"), &token(&state, Role::CustomerService));
    let (status, _) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let e = event(include_str!("../events/reconcile.json"), &token(&state, Role::Admin));
    let (status, report) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!((status, report["adopted"].as_u64()), (StatusCode::OK, Some(1)), "{report}");
}

/// The event of `GET {path}` (the stock fixture, another path).
fn get_event(path: &str, bearer: Option<&str>) -> Value {
    let mut e: Value = serde_json::from_str(include_str!("../events/stock.json")).unwrap();
    e["rawPath"] = json!(path);
    e["routeKey"] = json!(format!("GET {path}"));
    e["requestContext"]["http"]["path"] = json!(path);
    e["requestContext"]["routeKey"] = json!(format!("GET {path}"));
    match bearer {
        Some(t) => e["headers"]["authorization"] = json!(format!("Bearer {t}")),
        None => drop(e["headers"].as_object_mut().unwrap().remove("authorization")),
    }
    e
}

#[tokio::test]
async fn the_console_page_is_served_here_without_a_token_under_the_strict_policy() {
    let dir = TempDir::new().unwrap();
    let (_, app) = stack(&dir).await;
    let (status, headers, html) = call_text(&app, request(&get_event("/console", None)).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(h("content-type"), "text/html; charset=utf-8");
    assert!(h("content-security-policy").starts_with("default-src 'self'; script-src 'self';"));
    assert!(html.contains("/assets/console.js?v="), "{html}");
}

#[tokio::test]
async fn admin_me_names_the_caller_and_only_its_roles_routes() {
    let dir = TempDir::new().unwrap();
    let (state, app) = stack(&dir).await;
    let (status, _) = call(&app, request(&get_event("/admin/me", None)).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let e = get_event("/admin/me", Some(&token(&state, Role::CustomerService)));
    let (status, me) = call(&app, request(&e).unwrap()).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((me["actor"].as_str(), me["role"].as_str()), (Some("staff:staff-1"), Some("customer_service")));
    let allowed = me["allowed"].as_array().unwrap();
    assert!(allowed.contains(&json!(["POST", "/admin/subscriptions/{id}/revoke"])), "{me}");
    assert!(!allowed.contains(&json!(["POST", "/admin/orders/{id}/refund"])), "{me}");
}
