use serde_json::{Value, json};
use shared::domain::Timestamp;
use shared::http::auth::Role;
use stockroom_tests::spawn_app;

use crate::helpers::{DAY, advance, buy, expire, history, posts, set_plan, used};

fn resets_at(e: &Value) -> i64 {
    Timestamp::parse_rfc3339(e["usage"]["posts"]["resets_at"].as_str().unwrap()).unwrap().secs()
}

#[tokio::test]
async fn a_period_resets_at_its_boundary_and_keeps_its_totals() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    set_plan(&app, "bronze", |p| p.validity_days = 90).await;
    let (sub, _) = buy(&app, "bronze").await;
    posts(&app, &sub, "a", 5).await;
    let first = app.entitlement(&sub).await;
    let boundary = resets_at(&first);
    // Just before the boundary nothing resets.
    let now = app.ctx().clock.now().secs();
    advance(&app, boundary - now - 60).await;
    assert_eq!(expire(&app).await["usage"]["reset"]["closed"], 0);
    assert_eq!(used(&app.entitlement(&sub).await), Some(5));
    // Across it, the new period starts empty, even before the job runs.
    advance(&app, 120).await;
    let e = app.entitlement(&sub).await;
    assert_eq!((used(&e), resets_at(&e)), (Some(0), boundary + 30 * DAY));
    let report = expire(&app).await;
    assert_eq!(
        (report["usage"]["reset"]["closed"].as_u64(), report["usage"]["reset"]["opened"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(expire(&app).await["usage"]["reset"]["closed"], 0, "a period resets once");
    posts(&app, &sub, "b", 2).await;
    let h = history(&app, &sub).await;
    assert_eq!((h["current"]["period"].as_u64(), h["current"]["posts"].as_u64()), (Some(1), Some(2)));
    let past = h["past"].as_array().unwrap();
    assert_eq!(past.len(), 1);
    assert_eq!(
        (past[0]["period"].as_u64(), past[0]["posts"].as_u64(), past[0]["closed"].as_bool()),
        (Some(0), Some(5), Some(true))
    );
    // Every staff role may read it.
    for role in [Role::InventoryManager, Role::CustomerService] {
        let url = format!("{}/admin/subscriptions/{sub}/usage", app.url);
        let r = app.client.get(url).bearer_auth(app.staff_token(role)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn two_reset_runs_at_once_reset_each_period_once() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    set_plan(&app, "bronze", |p| p.validity_days = 90).await;
    let mut subs = Vec::new();
    for i in 0..3 {
        let (sub, _) = buy(&app, "bronze").await;
        posts(&app, &sub, &format!("k{i}"), i + 1).await;
        subs.push(sub);
    }
    advance(&app, 30 * DAY + 60).await;
    let (a, b) = tokio::join!(app.post_admin("/admin/expire", json!({})), app.post_admin("/admin/expire", json!({})));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    let closed = a["usage"]["reset"]["closed"].as_u64().unwrap() + b["usage"]["reset"]["closed"].as_u64().unwrap();
    assert_eq!(closed, 3);
    for (i, sub) in subs.iter().enumerate() {
        let h = history(&app, sub).await;
        assert_eq!(h["past"][0]["posts"].as_u64(), Some(i as u64 + 1));
        assert_eq!(h["current"]["posts"], 0);
    }
}

#[tokio::test]
async fn an_ended_subscription_gets_its_last_period_closed_and_no_new_one() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    posts(&app, &sub, "a", 3).await;
    advance(&app, 32 * DAY).await;
    let report = expire(&app).await;
    assert_eq!(
        (report["usage"]["reset"]["closed"].as_u64(), report["usage"]["reset"]["opened"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(history(&app, &sub).await["past"][0]["posts"], 3);
}
