//! DELETE /admin/subscriptions/{id}: ends it now; admin only; idempotent.

use reqwest::Method;
use serde_json::json;
use shared::http::admin::DELETED;
use shared::http::auth::Role;
use stockroom_tests::{problem, spawn_app};

use super::helpers::{books_balance, buy, call, ledger, settled, summed_summary};

#[tokio::test]
async fn deleting_a_subscription_gives_its_files_back_once() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (_, _, sub, files) = buy(&app, "silver").await;
    app.events("").await;
    let path = format!("/admin/subscriptions/{sub}");
    let cs = call(&app, Method::DELETE, &path, Some(&app.staff_token(Role::CustomerService)), None).await;
    assert_eq!(cs.status(), 403);
    let admin = app.admin_token();
    let r = call(&app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["outcome"]["Revoked"]["files"], json!(files));
    assert_eq!(app.keys("unused/").await.len(), 3);
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
    let page = ledger(&app, &format!("?kind=revoke&reference={sub}")).await;
    assert_eq!(page["summary"]["revoke"], json!({"entries": 2, "delta": 2}));
    assert_eq!(
        (page["entries"][0]["reason"].as_str(), page["entries"][0]["actor"].as_str()),
        (Some(DELETED), Some("staff:tester"))
    );
    let ended = app.events("subscription.ended").await;
    assert_eq!((ended.len(), ended[0]["note"].as_str()), (1, Some(DELETED)));

    let again = call(&app, Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["outcome"], "AlreadyEnded");
    assert_eq!(summed_summary(&app, "kind=revoke", 1).await["revoke"]["entries"], 2, "booked once");
    let (status, _) = problem(call(&app, Method::DELETE, "/admin/subscriptions/Snope", Some(&admin), None).await).await;
    assert_eq!(status, 404);
    books_balance(&app).await;
    settled(&app).await;
}
