//! POST /admin/stock/adjust: each action, assigned files, holds, races.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::http::auth::Role;
use shared::services::{keys, stock};
use stockroom_tests::{problem, s, spawn_app};

use super::helpers::{adjust, adjust_as, books_balance, buy, ledger, record, settled, summed_summary};

fn outcomes(results: &[Value]) -> Vec<String> {
    results.iter().map(|r| s(&r["outcome"])).collect()
}

#[tokio::test]
async fn each_action_moves_the_file_and_books_it() {
    let app = spawn_app().await;
    let n = app.add_stock(5).await;
    let r = adjust(&app, "freeze", &[&n[0], &n[1]], "suspicious login").await;
    assert_eq!(outcomes(&r), ["frozen", "frozen"]);
    let r = adjust(&app, "ban", &[&n[1], &n[2], "nosuch.session"], "platform ban").await;
    assert_eq!(outcomes(&r), ["banned", "banned", "not_found"]);
    let r = adjust(&app, "unfreeze", &[&n[0], &n[3], &n[1]], "looked fine").await;
    assert_eq!(outcomes(&r), ["unfrozen", "unchanged", "refused"]);
    assert!(r[2]["detail"].as_str().unwrap().contains("banned"));
    let r = adjust(&app, "write_off", &[&n[2], &n[4]], "dead account").await;
    assert_eq!(outcomes(&r), ["written_off", "written_off"]);
    let r = adjust(&app, "freeze", &[&n[0]], "again").await;
    assert_eq!(outcomes(&r), ["frozen"]);
    let r = adjust(&app, "freeze", &[&n[0]], "twice").await;
    assert_eq!(outcomes(&r), ["unchanged"]);

    assert_eq!(app.keys("unused/").await, vec![format!("unused/{}", n[3])]);
    assert_eq!(app.keys("frozen/").await, vec![format!("frozen/{}", n[0])]);
    assert_eq!(app.keys("banned/").await, vec![format!("banned/{}", n[1])]);
    assert!(record(&app, &n[2]).await.is_none() && record(&app, &n[4]).await.is_none());
    let tomb = app.ctx().records.get(&keys::written_off(&n[2])).await.unwrap().unwrap();
    assert_eq!((tomb["was"].as_str(), tomb["actor"].as_str()), (Some("banned"), Some("staff:tester")));
    let c = stock::read_counts(app.ctx()).await.unwrap().counts;
    assert_eq!((c.unused, c.frozen, c.banned, c.assigned), (1, 1, 1, 0));

    let page = ledger(&app, "?kind=freeze,ban,unfreeze,write_off&limit=500").await;
    assert_eq!(page["next_cursor"], Value::Null, "one page holds them all");
    // Summed over pages of 3, the summaries give the whole filter, as the one page does.
    let summary = &summed_summary(&app, "kind=freeze,ban,unfreeze,write_off", 3).await;
    assert_eq!(*summary, page["summary"]);
    assert_eq!(summary["freeze"], json!({"entries": 3, "delta": -3}));
    assert_eq!(summary["ban"], json!({"entries": 2, "delta": -1}), "one from frozen (0), one from unused (-1)");
    assert_eq!(summary["unfreeze"], json!({"entries": 1, "delta": 1}));
    assert_eq!(summary["write_off"], json!({"entries": 2, "delta": -1}));
    for e in page["entries"].as_array().unwrap() {
        assert_eq!(e["actor"], "staff:tester");
        assert!(s(&e["reference"]).starts_with("adjust:"));
    }
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn banning_an_assigned_file_hands_out_a_replacement() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (_, user, sub, files) = buy(&app, "bronze").await;
    app.events("").await;
    let r = adjust(&app, "ban", &[&files[0]], "reported by platform").await;
    assert_eq!(outcomes(&r), ["replaced"]);
    let new = s(&r[0]["replacement"]);
    assert_ne!(new, files[0]);
    assert_eq!(app.keys("banned/").await, vec![format!("banned/{}", files[0])]);
    assert_eq!(app.keys("assigned/").await, vec![format!("assigned/{user}/{new}")]);
    let ent = app.entitlement(&sub).await;
    assert_eq!(ent["files"], json!([format!("assigned/{user}/{new}")]));
    assert_eq!(ent["can_run"], true);
    let ev = app.events("subscription.file_replaced").await;
    assert_eq!(ev.len(), 1);
    assert_eq!((s(&ev[0]["file"]), s(&ev[0]["replacement"])), (files[0].clone(), new.clone()));
    let bans = ledger(&app, &format!("?kind=ban&reference={sub}")).await;
    assert_eq!(bans["summary"]["ban"], json!({"entries": 2, "delta": -1}));
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn banning_an_assigned_file_with_no_stock_flags_it_until_it_returns() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (_, user, sub, files) = buy(&app, "bronze").await;
    app.events("").await;
    let r = adjust(&app, "ban", &[&files[0]], "reported").await;
    assert_eq!(outcomes(&r), ["flagged"]);
    assert_eq!(outcomes(&adjust(&app, "ban", &[&files[0]], "again").await), ["unchanged"]);
    assert_eq!(app.keys("assigned/").await, vec![format!("assigned/{user}/{}", files[0])], "still in use");
    let ev = app.events("subscription.file_flagged").await;
    assert_eq!((ev.len(), s(&ev[0]["subscription_id"])), (1, sub.clone()));
    assert_eq!(ev[0]["email"], "buyer@example.com");
    let sub_item = app.ctx().records.get(&keys::subscription(&sub)).await.unwrap().unwrap();
    assert_eq!(sub_item["flagged"], json!([files[0]]));
    let flag = ledger(&app, "?kind=ban").await;
    assert_eq!(flag["summary"]["ban"], json!({"entries": 1, "delta": 0}));
    assert_eq!(flag["entries"][0]["actor"], "staff:tester");

    let revoke = app.post_admin(&format!("/admin/subscriptions/{sub}/revoke"), json!({})).await;
    assert_eq!(revoke.status(), 200);
    assert_eq!(app.keys("banned/").await, vec![format!("banned/{}", files[0])], "it came back banned");
    books_balance(&app).await;
    settled(&app).await;
}

#[tokio::test]
async fn files_open_checkouts_hold_are_not_taken() {
    let app = spawn_app().await;
    let n = app.add_stock(1).await;
    app.checkout_ok("bronze", "stripe").await;
    for action in ["freeze", "ban", "write_off"] {
        let r = adjust(&app, action, &[&n[0]], "try").await;
        assert_eq!(outcomes(&r), ["held"], "{action}");
    }
    assert_eq!(app.keys("unused/").await.len(), 1);
    assert_eq!(ledger(&app, "?kind=freeze,ban,write_off").await["entries"], json!([]));
}

#[tokio::test]
async fn a_checkout_and_a_freeze_racing_for_the_last_file_never_both_win() {
    for _ in 0..6 {
        let app = spawn_app().await;
        let n = app.add_stock(1).await;
        let files = [n[0].as_str()];
        let (co, adj) = tokio::join!(app.checkout("bronze", "stripe"), adjust(&app, "freeze", &files, "race"));
        let sold = co.status() == StatusCode::CREATED;
        let frozen = outcomes(&adj) == ["frozen"];
        assert!(sold != frozen, "exactly one wins: checkout {sold}, freeze {adj:?}");
        let c = stock::read_counts(app.ctx()).await.unwrap().counts;
        assert!(c.available() >= 0 && c.reserved <= c.unused, "{c:?}");
        books_balance(&app).await;
    }
}

#[tokio::test]
async fn bad_requests_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let n = app.add_stock(1).await;
    let t = app.staff_token(Role::Admin);
    let url = format!("{}/admin/stock/adjust", app.url);
    for body in [
        json!({"action": "ban", "files": [], "reason": "x"}),
        json!({"action": "burn", "files": [n[0]], "reason": "x"}),
        json!({"action": "ban", "files": [n[0]]}),
        json!({"action": "ban", "files": [n[0]], "reason": "  "}),
        json!({"action": "ban", "files": ["../etc/passwd"], "reason": "x"}),
        json!({"action": "ban", "files": [n[0], n[0]], "reason": "x"}),
        json!({"files": [n[0]], "reason": "x"}),
        json!("ban"),
    ] {
        let r = app.client.post(&url).bearer_auth(&t).json(&body).send().await.unwrap();
        let (status, _) = problem(r).await;
        assert_eq!(status, 400, "{body}");
    }
    let r = adjust_as(&app, Role::CustomerService, "ban", &[&n[0]], "x").await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.keys("unused/").await.len(), 1);
    assert_eq!(ledger(&app, "?kind=ban").await["entries"], json!([]));
}

/// A revoke that read the subscription before a ban swapped one of its files
/// must still give back the file it has now, not the banned one.
#[tokio::test]
async fn a_ban_with_replacement_and_a_revoke_at_once_leave_nothing_assigned() {
    let app = spawn_app().await;
    for round in 0..10 {
        app.add_stock(2).await;
        let (_, user, sub, files) = buy(&app, "bronze").await;
        let revoke_path = format!("/admin/subscriptions/{sub}/revoke");
        let target = [files[0].as_str()];
        let (banned, revoked) = tokio::join!(
            adjust_as(&app, Role::Admin, "ban", &target, "reported"),
            app.post_admin(&revoke_path, json!({})),
        );
        assert_eq!((banned.status(), revoked.status()), (StatusCode::OK, StatusCode::OK), "round {round}");
        let prefix = format!("assigned/{user}/");
        assert!(app.keys(&prefix).await.is_empty(), "round {round}: files left under {prefix}");
        assert_eq!(app.entitlement(&sub).await["can_run"], false);
        books_balance(&app).await;
    }
    settled(&app).await;
}

/// A session file's journal goes with it through freeze, unfreeze and ban,
/// and is deleted with it on write-off; it is never counted as stock.
#[tokio::test]
async fn a_journal_follows_its_session_through_every_action() {
    let app = spawn_app().await;
    let n = app.add_stock(2).await;
    let files = &app.ctx().files;
    for name in &n {
        files.put(&format!("unused/{name}-journal"), b"j".to_vec(), true).await.unwrap();
    }
    let journals = |prefix: &'static str| {
        let app = &app;
        async move { app.keys(prefix).await.into_iter().filter(|k| k.ends_with("-journal")).collect::<Vec<_>>() }
    };
    assert_eq!(outcomes(&adjust(&app, "freeze", &[&n[0]], "check").await), ["frozen"]);
    assert_eq!(journals("frozen/").await, [format!("frozen/{}-journal", n[0])]);
    assert_eq!(outcomes(&adjust(&app, "unfreeze", &[&n[0]], "fine").await), ["unfrozen"]);
    assert_eq!(journals("unused/").await.len(), 2);
    assert_eq!(outcomes(&adjust(&app, "ban", &[&n[0]], "platform ban").await), ["banned"]);
    assert_eq!(journals("banned/").await, [format!("banned/{}-journal", n[0])]);
    assert_eq!(outcomes(&adjust(&app, "write_off", &[&n[0], &n[1]], "dead").await), ["written_off", "written_off"]);
    assert!(app.keys("").await.is_empty(), "write-off took the journals too");
    let stock = app.get_admin("/admin/stock").await;
    assert_eq!((stock["unused"].as_i64(), stock["banned"].as_i64()), (Some(0), Some(0)), "{stock}");
}
