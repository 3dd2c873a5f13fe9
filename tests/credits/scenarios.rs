//! The three seed scenarios, exactly as issue 6 states them.

use serde_json::json;
use stockroom_tests::spawn_app_with;

use super::helpers::*;

const ANN: &str = "ann@example.com";

/// (1) balance 10, purchase earns 5 pending, purchase deactivated before the
/// 48 h -> balance 10, pending voided and never posted.
#[tokio::test]
async fn deactivated_before_the_hold_ends_is_voided_and_never_posted() {
    // bronze is $30: at $6 a credit it earns 5.
    let app = spawn_app_with(|c| c.credits.minor_per_credit = 600).await;
    gift(&app, ANN, 10).await;
    assert_eq!(balance(&app, ANN).await, (10, 0, 0));
    let (order, _) = buy(&app, ANN, "bronze").await;
    wait_credits(&app, ANN, |v| v["pending_in"] == 5).await;
    assert_eq!(balance(&app, ANN).await, (10, 5, 0));

    advance(&app, HOLD_SECS - 60).await;
    let d = deactivate_order(&app, &order).await;
    assert_eq!((d["credits"].as_str(), d["amount"].as_i64()), (Some("voided"), Some(5)));
    assert_eq!(balance(&app, ANN).await, (10, 0, 0));

    advance(&app, 3600).await;
    let report = run_job(&app).await;
    assert_eq!(report["posted"], 0, "{report}");
    assert_eq!(balance(&app, ANN).await, (10, 0, 0));
    assert_eq!(kinds(&app, ANN, "void").await, 1);
    assert_eq!(kinds(&app, ANN, "post").await, 0, "never posted");
}

/// (2) balance 10, purchase earns 3, posted after 48 h -> 13, then
/// deactivated -> 10.
#[tokio::test]
async fn posted_then_deactivated_is_reversed_once() {
    let app = spawn_app_with(|c| c.credits.minor_per_credit = 1000).await;
    gift(&app, ANN, 10).await;
    let (order, _) = buy(&app, ANN, "bronze").await;
    wait_credits(&app, ANN, |v| v["pending_in"] == 3).await;

    run_job(&app).await;
    assert_eq!(balance(&app, ANN).await, (10, 3, 0), "not before the 48 h");
    advance(&app, HOLD_SECS + 1).await;
    let report = run_job(&app).await;
    assert_eq!(report["posted"], 1, "{report}");
    assert_eq!(balance(&app, ANN).await, (13, 0, 0));
    // The posting is an event, once, with the buyer and the amount.
    run_job(&app).await;
    let posted = app.events("credits.posted").await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    let p = &posted[0];
    assert_eq!((p["email"].as_str(), p["amount"].as_i64()), (Some(ANN), Some(3)));
    assert_eq!(
        (p["origin"].as_str(), p["direction"].as_str(), p["order_id"].as_str()),
        (Some("earn"), Some("in"), Some(order.as_str()))
    );

    let d = deactivate_order(&app, &order).await;
    assert_eq!(d["credits"], "reversed");
    assert_eq!(balance(&app, ANN).await, (10, 0, 0));
    assert_eq!(deactivate_order(&app, &order).await["credits"], "unchanged");
    assert_eq!(balance(&app, ANN).await, (10, 0, 0));
    assert_eq!(kinds(&app, ANN, "reverse").await, 1);
}

/// (3) balance 20, gift 50 -> 70, gift deactivated -> 20.
#[tokio::test]
async fn a_gift_deactivated_is_reversed_once() {
    let app = spawn_app_with(|_| {}).await;
    gift(&app, ANN, 20).await;
    assert_eq!(balance(&app, ANN).await, (20, 0, 0));
    let id = gift(&app, ANN, 50).await;
    assert_eq!(balance(&app, ANN).await, (70, 0, 0));
    let path = format!("/admin/credits/gifts/{id}/deactivate");
    let r = app.post_admin(&path, json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(balance(&app, ANN).await, (20, 0, 0));
    let again: serde_json::Value = app.post_admin(&path, json!({})).await.json().await.unwrap();
    assert_eq!(again["credits"], "unchanged");
    assert_eq!(balance(&app, ANN).await, (20, 0, 0));
}
