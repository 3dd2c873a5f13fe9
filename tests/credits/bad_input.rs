//! Bad input: a problem+json 4xx, and nothing changes.

use reqwest::StatusCode;
use serde_json::json;
use shared::http::auth::Role;
use stockroom_tests::{problem, spawn_app};

use super::helpers::*;

#[tokio::test]
async fn bad_gifts_and_unknown_ids_change_nothing() {
    let app = spawn_app().await;
    let email = "bad@example.com";
    gift(&app, email, 10).await;
    let before = credits(&app, email).await;
    let bodies = [
        json!({"email": email, "amount": 0, "reason": "x"}),
        json!({"email": email, "amount": -5, "reason": "x"}),
        json!({"email": email, "amount": "ten", "reason": "x"}),
        json!({"email": email, "amount": 1.5, "reason": "x"}),
        json!({"email": email, "amount": 5, "reason": "  "}),
        json!({"email": "not-an-email", "amount": 5, "reason": "x"}),
        json!({"amount": 5, "reason": "x"}),
    ];
    for b in bodies {
        let (code, _) = problem(app.post_admin("/admin/credits/gifts", b.clone()).await).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{b}");
    }
    for path in [
        "/admin/credits/gifts/G01JAAAAAAAAAAAAAAAAAAAAAA/deactivate",
        "/admin/credits/gifts/nope/deactivate",
        "/admin/orders/01JAAAAAAAAAAAAAAAAAAAAAAA/deactivate",
        "/admin/orders/nope/deactivate",
    ] {
        let (code, _) = problem(app.post_admin(path, json!({})).await).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
    }
    let t = app.admin_token();
    let r = app.client.get(format!("{}/admin/customers/nope/credits", app.url)).bearer_auth(t).send().await.unwrap();
    assert_eq!(problem(r).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(credits(&app, email).await, before);
}

#[tokio::test]
async fn roles_are_checked() {
    let app = spawn_app().await;
    let body = json!({"email": "role@example.com", "amount": 5, "reason": "x"});
    let send = |role: Role, path: &'static str, body: serde_json::Value| {
        let t = app.staff_token(role);
        app.client.post(format!("{}{path}", app.url)).bearer_auth(t).json(&body).send()
    };
    assert_eq!(send(Role::CustomerService, "/admin/credits/gifts", body.clone()).await.unwrap().status(), 201);
    let r = send(Role::InventoryManager, "/admin/credits/gifts", body.clone()).await.unwrap();
    assert_eq!(problem(r).await.0, StatusCode::FORBIDDEN);
    let r = send(Role::CustomerService, "/admin/credits/post", json!({})).await.unwrap();
    assert_eq!(problem(r).await.0, StatusCode::FORBIDDEN);
    let r = app.post("/admin/credits/gifts", body).await;
    assert_eq!(problem(r).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(balance(&app, "role@example.com").await, (5, 0, 0));
}
