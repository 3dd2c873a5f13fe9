//! The configured first admin (`STOCKROOM_ADMIN_EMAIL`): made for a shop
//! without an enabled admin, and never brought back by a restart once an
//! admin removed it.

use reqwest::Method;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, s, spawn_app_with};

use super::accounts::{BOSS, ask_link, with_boss};
use super::helpers::call;

const OTHER: &str = "other-admin@shop.example";

/// `(email, role, disabled, created_by)` of every account, by a service token.
async fn accounts(app: &TestApp) -> Vec<(String, String, bool, String)> {
    let r = call(app, Method::GET, "/admin/staff", Some(&app.admin_token()), None).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let list = v["staff"].as_array().cloned().unwrap_or_default();
    list.iter().map(|a| (s(&a["email"]), s(&a["role"]), a["disabled"] == true, s(&a["created_by"]))).collect()
}

async fn save(app: &TestApp, email: &str, role: &str, disabled: bool) {
    let body = json!({"email": email, "role": role, "disabled": disabled});
    let r = call(app, Method::POST, "/admin/staff", Some(&app.admin_token()), Some(body)).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

#[tokio::test]
async fn a_removed_configured_admin_stays_removed_across_restarts() {
    let mut app = spawn_app_with(with_boss).await;
    let seeded = accounts(&app).await;
    assert_eq!(seeded, [(BOSS.into(), "admin".into(), false, "config".into())], "an empty shop gets its first admin");
    save(&app, OTHER, "admin", false).await;
    let r = call(&app, Method::DELETE, &format!("/admin/staff/{BOSS}"), Some(&app.admin_token()), None).await;
    assert_eq!(r.status(), 204);

    app.restart().await;
    let after = accounts(&app).await;
    assert_eq!(after, [(OTHER.into(), "admin".into(), false, "staff:tester".into())], "not seeded again");
    assert_eq!(ask_link(&app, BOSS).await, None, "no sign-in for the removed account");
    app.restart().await;
    assert_eq!(accounts(&app).await, after, "nor at the next start");
}

#[tokio::test]
async fn a_shop_without_an_enabled_admin_gets_the_configured_one_back() {
    let mut app = spawn_app_with(with_boss).await;
    save(&app, OTHER, "admin", false).await;
    let r = call(&app, Method::DELETE, &format!("/admin/staff/{BOSS}"), Some(&app.admin_token()), None).await;
    assert_eq!(r.status(), 204);
    // The last admin disabled: nobody can sign in as admin any more.
    save(&app, OTHER, "admin", true).await;

    app.restart().await;
    let back = accounts(&app).await;
    assert!(back.contains(&(BOSS.into(), "admin".into(), false, "config".into())), "{back:?}");
    assert!(back.contains(&(OTHER.into(), "admin".into(), true, "staff:tester".into())), "left as it was: {back:?}");
    assert!(ask_link(&app, BOSS).await.is_some(), "the operator's way back in");
}
