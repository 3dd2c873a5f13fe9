use serde_json::json;
use shared::config::LOCAL_SERVICE_TOKEN;
use stockroom_tests::{problem, spawn_app};

use crate::helpers::{DAY, advance, buy, expire, posts, report, reports_at_once, used};

#[tokio::test]
async fn the_same_key_fifty_times_at_once_counts_once() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    let body = json!({"metric": "posts", "quantity": 3, "idempotency_key": "run-1"});
    let replies = reports_at_once(&app, &sub, vec![body; 50]).await;
    assert!(replies.iter().all(|(status, _)| *status == 200));
    let receipts: Vec<_> = replies.into_iter().map(|(_, r)| r).collect();
    assert!(receipts.iter().all(|r| *r == receipts[0]), "every replay gets the same receipt");
    assert_eq!(receipts[0]["used"], 3);
    assert_eq!(used(&app.entitlement(&sub).await), Some(3));
}

#[tokio::test]
async fn distinct_keys_at_once_add_up_exactly() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    let bodies =
        (0..40).map(|i| json!({"metric": "posts", "quantity": i % 5 + 1, "idempotency_key": format!("k-{i}")}));
    let replies = reports_at_once(&app, &sub, bodies.collect()).await;
    assert!(replies.iter().all(|(status, _)| *status == 200), "{replies:?}");
    let want: u64 = (0..40u64).map(|i| i % 5 + 1).sum();
    assert_eq!(used(&app.entitlement(&sub).await), Some(want));
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    posts(&app, &sub, "a", 2).await;
    let again = json!({"metric": "posts", "quantity": 5, "idempotency_key": "a"});
    let (status, body) = problem(report(&app, &sub, again).await).await;
    assert_eq!(status, 422);
    assert!(body["type"].as_str().unwrap().ends_with("/idempotency-key-reused"));
    assert_eq!(used(&app.entitlement(&sub).await), Some(2));
}

#[tokio::test]
async fn bad_reports_get_clear_errors_and_change_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, _) = buy(&app, "bronze").await;
    let bad = [
        json!({"metric": "likes", "quantity": 1, "idempotency_key": "x"}),
        json!({"metric": "posts", "quantity": 0, "idempotency_key": "x"}),
        json!({"metric": "posts", "quantity": -3, "idempotency_key": "x"}),
        json!({"metric": "posts", "quantity": 10_001, "idempotency_key": "x"}),
        json!({"metric": "posts", "quantity": 1, "idempotency_key": ""}),
        json!({"metric": "posts", "quantity": 1}),
        json!({"metric": "posts", "quantity": 1.5, "idempotency_key": "x"}),
        json!({"metric": "posts", "quantity": 1, "idempotency_key": "x", "extra": true}),
    ];
    for body in bad {
        let (status, p) = problem(report(&app, &sub, body.clone()).await).await;
        assert_eq!(status, 400, "{body}");
        assert!(p["type"].as_str().unwrap().ends_with("/invalid-request"));
    }
    let ok = json!({"metric": "posts", "quantity": 1, "idempotency_key": "x"});
    assert_eq!(problem(report(&app, "nope", ok.clone()).await).await.0, 404);
    let url = format!("{}/subscriptions/{sub}/usage", app.url);
    let r = app.client.post(&url).json(&ok).send().await.unwrap();
    assert_eq!(problem(r).await.0, 401);
    let r = app.client.post(&url).bearer_auth(format!("{LOCAL_SERVICE_TOKEN}x")).json(&ok).send().await.unwrap();
    assert_eq!(problem(r).await.0, 401);
    assert_eq!(used(&app.entitlement(&sub).await), Some(0));
    // The key was never spent by the refused reports.
    assert_eq!(posts(&app, &sub, "x", 1).await["used"], 1);
}

#[tokio::test]
async fn usage_for_revoked_or_expired_subscriptions_is_refused() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (revoked, _) = buy(&app, "bronze").await;
    let (lapsed, _) = buy(&app, "bronze").await;
    assert_eq!(app.post_admin(&format!("/admin/subscriptions/{revoked}/revoke"), json!({})).await.status(), 200);
    let body = json!({"metric": "posts", "quantity": 1, "idempotency_key": "late"});
    let (status, p) = problem(report(&app, &revoked, body.clone()).await).await;
    assert_eq!(status, 409);
    assert!(p["type"].as_str().unwrap().ends_with("/subscription-ended"));
    // In grace the posts already made still count; after it, nothing does.
    advance(&app, 30 * DAY + 60).await;
    assert_eq!(app.entitlement(&lapsed).await["state"], "grace");
    posts(&app, &lapsed, "in-grace", 1).await;
    advance(&app, DAY).await;
    let (status, p) = problem(report(&app, &lapsed, body.clone()).await).await;
    assert_eq!((status.as_u16(), p["type"].as_str().unwrap().ends_with("/subscription-ended")), (409, true));
    expire(&app).await;
    assert_eq!(problem(report(&app, &lapsed, body).await).await.0, 409);
}
