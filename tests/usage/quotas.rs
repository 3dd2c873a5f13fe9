use serde_json::json;
use shared::domain::usage::{Metric, Quota, UsageFail};
use stockroom_tests::spawn_app;

use crate::helpers::{buy, posts, report, set_plan, used};

#[tokio::test]
async fn the_default_plan_shows_its_quota_and_when_it_resets() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    let e = app.entitlement(&sub).await;
    assert_eq!(e["usage_status"], "ok");
    assert_eq!(e["usage"]["posts"]["limit"], 720);
    assert_eq!(e["usage"]["posts"]["used"], 0);
    assert!(e["usage"]["posts"]["resets_at"].as_str().is_some());
}

#[tokio::test]
async fn a_hard_quota_stops_the_bot_exactly_when_its_limit_is_reached() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    set_plan(&app, "bronze", |p| {
        p.quotas.insert(Metric::Posts, Quota { limit: 5, hard: true });
    })
    .await;
    let (sub, _) = buy(&app, "bronze").await;
    let r = posts(&app, &sub, "a", 4).await;
    assert_eq!((r["used"].as_u64(), r["limit"].as_u64(), r["quota_spent"].as_bool()), (Some(4), Some(5), Some(false)));
    assert_eq!(app.entitlement(&sub).await["can_run"], true, "one post left");
    let r = posts(&app, &sub, "b", 1).await;
    assert_eq!(r["quota_spent"], true, "the limit reached is the quota spent");
    let e = app.entitlement(&sub).await;
    assert_eq!((e["can_run"].as_bool(), used(&e), e["state"].as_str()), (Some(false), Some(5), Some("active")));
    // Posts made anyway are still counted (they happened); the bot stays stopped.
    assert_eq!(posts(&app, &sub, "c", 2).await["used"], 7);
    assert_eq!(app.entitlement(&sub).await["can_run"], false);
    // A soft quota is shown but never stops the bot.
    set_plan(&app, "bronze", |p| {
        p.quotas.insert(Metric::Posts, Quota { limit: 5, hard: false });
    })
    .await;
    let e = app.entitlement(&sub).await;
    assert_eq!((e["can_run"].as_bool(), e["usage"]["posts"]["hard"].as_bool()), (Some(true), Some(false)));
    let unmetered = json!({"metric": "posts", "quantity": 1, "idempotency_key": "d"});
    set_plan(&app, "bronze", |p| p.quotas.clear()).await;
    assert_eq!(report(&app, &sub, unmetered).await.status(), 200);
    let e = app.entitlement(&sub).await;
    assert!(e["usage"]["posts"]["limit"].is_null(), "no quota: limit null");
    assert_eq!((used(&e), e["can_run"].as_bool()), (Some(8), Some(true)));
}

#[tokio::test]
async fn an_unreadable_usage_store_fails_open_by_default() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    app.ctx().faults.arm("usage.read", 1);
    let e = app.entitlement(&sub).await;
    assert_eq!((e["usage_status"].as_str(), e["can_run"].as_bool()), (Some("unavailable_open"), Some(true)));
    assert!(e["usage"]["posts"]["used"].is_null());
    assert_eq!(app.entitlement(&sub).await["usage_status"], "ok");
}

#[tokio::test]
async fn an_unreadable_usage_store_fails_closed_when_the_plan_says_so() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    set_plan(&app, "bronze", |p| p.usage_fail = UsageFail::Closed).await;
    let (sub, _) = buy(&app, "bronze").await;
    app.ctx().faults.arm("usage.read", 1);
    let e = app.entitlement(&sub).await;
    assert_eq!((e["usage_status"].as_str(), e["can_run"].as_bool()), (Some("unavailable_closed"), Some(false)));
    assert_eq!(e["state"], "active");
    let e = app.entitlement(&sub).await;
    assert_eq!((e["usage_status"].as_str(), e["can_run"].as_bool()), (Some("ok"), Some(true)));
    // A report that cannot read the store fails whole, and counts nothing.
    app.ctx().faults.arm("usage.read", 1);
    let body = json!({"metric": "posts", "quantity": 1, "idempotency_key": "k"});
    assert_eq!(report(&app, &sub, body.clone()).await.status(), 500);
    assert_eq!(used(&app.entitlement(&sub).await), Some(0));
    assert_eq!(report(&app, &sub, body).await.status(), 200);
    assert_eq!(used(&app.entitlement(&sub).await), Some(1));
}
