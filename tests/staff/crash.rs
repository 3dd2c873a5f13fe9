//! Crashes between the steps of an adjustment: the staff decision, once
//! committed, is finished by a retry or by reconcile, never undone.

use serde_json::json;
use stockroom_tests::{problem, s, spawn_app};

use super::helpers::{
    adjust, adjust_as, advance, books_balance, buy, ledger, reconcile, record, settled, summed_summary,
};
use shared::domain::Location;
use shared::http::auth::Role;

#[tokio::test]
async fn a_freeze_that_crashed_after_its_commit_is_finished_by_the_retry() {
    let app = spawn_app().await;
    let n = app.add_stock(2).await;
    app.ctx().faults.arm("adjust.after_commit", 1);
    let (status, _) = problem(adjust_as(&app, Role::Admin, "freeze", &[&n[0]], "suspicious").await).await;
    assert_eq!(status, 500);
    assert_eq!(record(&app, &n[0]).await.unwrap().location, Location::Frozen, "the decision is committed");
    assert_eq!(app.keys("frozen/").await.len(), 0, "the move is not done yet");
    // Reconcile while the intent is young: storage does not overrule it.
    let r = reconcile(&app).await;
    assert!(r["in_flight"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!((r["repaired"].as_u64(), r["adopted"].as_u64()), (Some(0), Some(0)), "{r}");
    assert_eq!(record(&app, &n[0]).await.unwrap().location, Location::Frozen);
    let again = adjust(&app, "freeze", &[&n[0]], "suspicious").await;
    assert_eq!(again[0]["outcome"], "unchanged");
    assert_eq!(app.keys("frozen/").await, vec![format!("frozen/{}", n[0])]);
    assert_eq!(summed_summary(&app, "kind=freeze", 1).await["freeze"]["entries"], 1, "booked once");
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn a_write_off_that_crashed_is_finished_by_reconcile_not_readopted() {
    let app = spawn_app().await;
    let n = app.add_stock(2).await;
    app.ctx().faults.arm("adjust.after_commit", 1);
    let (status, _) = problem(adjust_as(&app, Role::Admin, "write_off", &[&n[0]], "dead").await).await;
    assert_eq!(status, 500);
    assert!(record(&app, &n[0]).await.is_none());
    assert_eq!(app.keys("unused/").await.len(), 2, "the object is still there");
    let r = reconcile(&app).await;
    assert_eq!(r["adopted"], 0, "a write-off in flight is not new stock: {r}");
    advance(&app, 600).await;
    let r = reconcile(&app).await;
    assert_eq!(r["stale_intents"], 1, "{r}");
    assert_eq!(app.keys("unused/").await, vec![format!("unused/{}", n[1])]);
    assert_eq!(summed_summary(&app, "kind=restock", 1).await["restock"]["entries"], 2);
    assert_eq!(ledger(&app, "?kind=reconcile").await["entries"], json!([]));
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn a_replacement_that_crashed_between_moves_is_finished_by_reconcile() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (_, user, sub, files) = buy(&app, "bronze").await;
    app.events("").await;
    app.ctx().faults.arm("adjust.after_first_move", 1);
    let (status, _) = problem(adjust_as(&app, Role::Admin, "ban", &[&files[0]], "reported").await).await;
    assert_eq!(status, 500);
    assert_eq!(app.keys("banned/").await.len(), 1);
    assert_eq!(app.keys("assigned/").await.len(), 0, "the replacement has not moved yet");
    let r = reconcile(&app).await;
    assert_eq!((r["repaired"].as_u64(), r["ghosts"].as_u64()), (Some(0), Some(0)), "{r}");
    advance(&app, 600).await;
    let r = reconcile(&app).await;
    assert_eq!(r["stale_intents"], 1, "{r}");
    let ent = app.entitlement(&sub).await;
    let key = s(&ent["files"][0]);
    assert!(key.starts_with(&format!("assigned/{user}/")) && !key.ends_with(&files[0]));
    assert_eq!(app.keys("assigned/").await, vec![key]);
    assert_eq!(app.events("subscription.file_replaced").await.len(), 1, "the owner is told once");
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn a_replacement_that_crashed_after_its_moves_is_booked_by_reconcile() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (_, user, sub, files) = buy(&app, "bronze").await;
    app.ctx().faults.arm("adjust.after_move", 1);
    let (status, _) = problem(adjust_as(&app, Role::Admin, "ban", &[&files[0]], "reported").await).await;
    assert_eq!(status, 500);
    assert_eq!((app.keys("banned/").await.len(), app.keys("assigned/").await.len()), (1, 1), "moved, not booked");
    advance(&app, 600).await;
    let r = reconcile(&app).await;
    assert_eq!(r["stale_intents"], 1, "{r}");
    let key = s(&app.entitlement(&sub).await["files"][0]);
    assert!(key.starts_with(&format!("assigned/{user}/")) && !key.ends_with(&files[0]));
    books_balance(&app).await;
    settled(&app).await;
}
