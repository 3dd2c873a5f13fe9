//! The admin function's router on the embedded backend, called with API
//! Gateway v2 events: staff JWTs checked per route and role.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use shared::domain::Timestamp;
use shared::http::AppState;
use shared::http::auth::{Role, mint};
use shared::lambda::testing::{add_stock, call, config, embedded_state, request};
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
