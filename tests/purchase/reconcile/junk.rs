//! Only files matching the stock pattern (`*.session`) are stock: a README or
//! a stray journal dropped into unused/ is reported, left where it is and
//! never sold; a session file's journal goes wherever its session goes.

use serde_json::json;
use stockroom_tests::{TestApp, spawn_app};

use super::helpers::{advance, buy, n, reconcile};

const JUNK: [&str; 2] = ["unused/README.txt", "unused/x.session-journal"];

async fn put(app: &TestApp, keys: &[&str]) {
    for key in keys {
        app.ctx().files.put(key, b"x".to_vec(), true).await.expect("put");
    }
}

async fn there(app: &TestApp, key: &str) -> bool {
    app.ctx().files.head(key).await.expect("head").is_some()
}

async fn sold_out(app: &TestApp, plan: &str) {
    let (status, problem) = stockroom_tests::problem(app.checkout(plan, "stripe").await).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["type"].as_str().unwrap_or_default().ends_with("/insufficient-stock"), "{problem}");
}

#[tokio::test]
async fn junk_is_rejected_never_sold_and_journals_follow_their_session() {
    let app = spawn_app().await;
    put(&app, &JUNK).await;
    put(&app, &["unused/a.session", "unused/a.session-journal", "unused/b.session"]).await;
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "adopted"), n(&r, "rejected")), (2, 2), "{r}");
    assert_eq!(r["rejected_keys"], json!(JUNK), "{r}");
    assert_eq!(r["invariants"]["violations"], json!([]), "{r}");
    assert_eq!(app.get_admin("/admin/stock").await["unused"], 2);

    // A plan that takes all the stock gets the two session files, nothing else.
    let (_, user, files) = buy(&app, "silver").await;
    assert_eq!(files, ["a.session", "b.session"]);
    assert!(there(&app, &format!("assigned/{user}/a.session-journal")).await, "the journal went with a.session");
    assert!(!there(&app, "unused/a.session-journal").await);
    sold_out(&app, "bronze").await;
    for key in JUNK {
        assert!(there(&app, key).await, "{key} is left where it is");
    }

    // The plan ends: the session and its journal come back together.
    advance(&app, 32 * 86_400).await;
    let expired = app.post_admin("/admin/expire", json!({})).await.json::<serde_json::Value>().await.expect("json");
    assert_eq!(expired["expired"], 1, "{expired}");
    assert!(there(&app, "unused/a.session-journal").await, "the journal came back with a.session");
    assert!(app.keys("assigned/").await.is_empty());

    let again = reconcile(&app).await;
    assert_eq!((n(&again, "adopted"), n(&again, "repaired"), n(&again, "rejected")), (0, 0, 2), "{again}");
    assert_eq!(again["counters_checked"], true, "{again}");
    assert_eq!(again["invariants"]["violations"], json!([]), "{again}");
    assert_eq!(app.get_admin("/admin/stock").await["unused"], 2);
}

#[tokio::test]
async fn junk_is_not_adopted_at_stack_start() {
    let mut app = spawn_app().await;
    put(&app, &JUNK).await;
    put(&app, &["unused/a.session"]).await;
    app.restart().await;
    assert_eq!(app.get_admin("/admin/stock").await["unused"], 1);
    assert_eq!(app.ledger_count("restock").await, 1, "only a.session became stock");
    sold_out(&app, "silver").await;
}
