//! Helpers for the reconcile suite: run it, read the books, drain events.

use serde_json::{Value, json};
use shared::services::items::from_item;
use shared::services::model::FileRecord;
use shared::services::{keys, stock};
use stockroom_tests::{TestApp, s};

pub async fn reconcile(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/reconcile", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub fn n(report: &Value, field: &str) -> u64 {
    report[field].as_u64().unwrap_or_else(|| panic!("no {field} in {report}"))
}

/// A second run: nothing to repair, and the counters proven equal.
pub async fn settled(app: &TestApp) -> Value {
    let r = reconcile(app).await;
    for f in [
        "adopted",
        "repaired",
        "ghosts",
        "lost",
        "attached",
        "duplicates",
        "stale_intents",
        "in_flight",
        "drift",
        "errors",
    ] {
        assert_eq!(n(&r, f), 0, "{f} on the second run: {r}");
    }
    assert_eq!((r["counters_checked"].as_bool(), r["counters_fixed"].as_bool()), (Some(true), Some(false)), "{r}");
    r
}

pub async fn record(app: &TestApp, name: &str) -> Option<FileRecord> {
    app.ctx().records.get(&keys::file(name)).await.unwrap().map(|i| from_item(i).unwrap())
}

/// Counters equal the listings, and every listed file's record points at it
/// (`unowned` orphans aside).
pub async fn books_balance(app: &TestApp, unowned: usize) {
    let mut listed = Vec::new();
    let mut strays = 0;
    for prefix in ["unused/", "assigned/", "banned/", "frozen/"] {
        let keys = app.keys(prefix).await;
        for key in &keys {
            match record(app, key.rsplit('/').next().unwrap()).await {
                Some(r) => assert_eq!(&r.storage_key(), key),
                None => strays += 1,
            }
        }
        listed.push(keys.len() as i64);
    }
    assert_eq!(strays, unowned, "files with no record");
    listed[1] -= unowned as i64;
    let c = stock::read_counts(app.ctx()).await.unwrap().counts;
    assert_eq!(vec![c.unused, c.assigned, c.banned, c.frozen], listed, "counters == listings");
}

/// A fulfilled bronze order: (order_id, user_id, files).
pub async fn buy(app: &TestApp, product: &str) -> (String, String, Vec<String>) {
    let (order_id, token, _) = app.checkout_ok(product, "stripe").await;
    app.sandbox_pay(&order_id, json!({})).await;
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    let files = order["subscription"]["files"].as_array().unwrap().iter().map(s).collect();
    let item = app.ctx().records.get(&keys::order(&order_id)).await.unwrap().unwrap();
    (order_id, s(&item["user_id"]), files)
}

pub async fn advance(app: &TestApp, seconds: i64) {
    assert_eq!(app.post("/sandbox/clock", json!({"advance_seconds": seconds})).await.status(), 200);
}
