//! Reconcile: every kind of drift is built on purpose in storage (straight
//! through the ports), repaired by `POST /admin/reconcile`, and a second run
//! finds nothing left to repair.

mod helpers;
mod junk;

use std::time::Duration;

use helpers::{advance, books_balance, buy, n, reconcile, record, settled};
use serde_json::{Value, json};
use shared::domain::EndReason;
use shared::ports::{Change, Key};
use shared::services::{alerts, keys, revoke};
use stockroom_tests::{s, spawn_app, spawn_app_with};

#[tokio::test]
async fn records_follow_storage_and_new_files_are_adopted() {
    let app = spawn_app().await;
    let names = app.add_stock(3).await;
    let files = &app.ctx().files;
    files.move_file(&format!("unused/{}", names[0]), &format!("banned/{}", names[0])).await.unwrap();
    files.move_file(&format!("unused/{}", names[1]), &format!("frozen/{}", names[1])).await.unwrap();
    files.put("frozen/walk-in.session", b"x".to_vec(), true).await.unwrap();
    files.put("unused/fresh.session", b"x".to_vec(), true).await.unwrap();
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "repaired"), n(&r, "adopted"), n(&r, "drift"), n(&r, "ghosts")), (3, 1, 2, 0), "{r}");
    assert_eq!(record(&app, &names[0]).await.unwrap().storage_key(), format!("banned/{}", names[0]));
    assert_eq!(record(&app, "walk-in.session").await.unwrap().storage_key(), "frozen/walk-in.session");
    assert_eq!((app.ledger_count("reconcile").await, app.ledger_count("restock").await), (3, 4));
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn ghosts_follow_their_file_or_are_marked_lost() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (_, user, moved) = buy(&app, "bronze").await;
    let (order_id, _, gone) = buy(&app, "bronze").await;
    let files = &app.ctx().files;
    files.move_file(&format!("assigned/{user}/{}", moved[0]), &format!("frozen/{}", moved[0])).await.unwrap();
    files.delete(&format!("assigned/{user}/{}", gone[0])).await.unwrap();
    app.events("").await;
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "ghosts"), n(&r, "repaired"), n(&r, "lost")), (2, 2, 1), "{r}");
    assert_eq!(record(&app, &moved[0]).await.unwrap().storage_key(), format!("frozen/{}", moved[0]));
    assert!(record(&app, &gone[0]).await.is_none(), "a lost file has no stock record");
    let tomb = app.ctx().records.get(&Key::new(format!("FILE#{}", gone[0]), "LOST")).await.unwrap().unwrap();
    assert_eq!(tomb["order_id"], order_id.as_str());
    let lost = app.events("stock.lost").await;
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0]["file"], gone[0].as_str());
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn orphans_are_attached_when_a_subscription_lists_them() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, user, files) = buy(&app, "bronze").await;
    app.ctx().records.delete(&keys::file(&files[0]), None).await.unwrap();
    app.ctx().files.put("assigned/ustranger/x.session", b"x".to_vec(), true).await.unwrap();
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "orphans"), n(&r, "attached")), (2, 1), "{r}");
    assert_eq!(r["orphan_keys"], json!(["assigned/ustranger/x.session"]));
    // Deleting the record by hand left the counters counting it: fixed.
    assert_eq!(r["counters_fixed"], true, "{r}");
    let rec = record(&app, &files[0]).await.unwrap();
    assert_eq!((rec.user_id.as_deref(), rec.order_id.as_deref()), (Some(user.as_str()), Some(order_id.as_str())));
    books_balance(&app, 1).await;
    let again = settled(&app).await;
    assert_eq!(n(&again, "orphans"), 1, "the unowned one is still reported");
}

#[tokio::test]
async fn duplicate_copies_go_and_the_recorded_one_stays() {
    let app = spawn_app().await;
    let names = app.add_stock(2).await;
    let (_, user, bought) = buy(&app, "bronze").await;
    let kept = names.iter().find(|n| **n != bought[0]).unwrap();
    for key in [format!("unused/{}", bought[0]), format!("banned/{}", bought[0]), format!("frozen/{kept}")] {
        app.ctx().files.put(&key, b"session".to_vec(), true).await.unwrap();
    }
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "duplicates"), n(&r, "repaired")), (3, 0), "{r}");
    assert_eq!(app.keys("unused/").await, [format!("unused/{kept}")]);
    assert_eq!(app.keys("assigned/").await, [format!("assigned/{user}/{}", bought[0])]);
    assert!(app.keys("banned/").await.is_empty() && app.keys("frozen/").await.is_empty());
    assert_eq!(app.ledger_count("reconcile").await, 0);
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn a_stale_fulfilment_is_finished_and_a_young_one_left_alone() {
    // The failed attempt's message stays hidden: only reconcile can finish.
    let app = spawn_app_with(|c| c.jobs.fulfil_visibility_secs = 3600).await;
    let names = app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    app.ctx().faults.arm("fulfil.after_claim", 1);
    app.sandbox_pay(&order_id, json!({})).await;
    for _ in 0..200 {
        if app.ctx().records.get(&keys::intent(&order_id)).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let young = reconcile(&app).await;
    assert!(n(&young, "in_flight") >= 1, "{young}");
    assert_eq!((n(&young, "repaired"), n(&young, "stale_intents")), (0, 0), "{young}");
    assert_eq!(app.keys("unused/").await, [format!("unused/{}", names[0])], "not undone, not moved");
    advance(&app, 600).await;
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "stale_intents"), n(&r, "repaired")), (1, 0), "{r}");
    assert_eq!(app.order(&order_id, &token).await["status"], "fulfilled");
    assert!(app.keys("unused/").await.is_empty());
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn a_stale_revoke_is_finished_never_undone() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (order_id, _, files) = buy(&app, "gold").await;
    app.ctx().faults.arm("revoke.after_first_move", 1);
    let sub = format!("S{order_id}");
    assert!(revoke::revoke(app.ctx(), &sub, EndReason::Revoked, "test").await.is_err(), "crashed half way");
    let young = reconcile(&app).await;
    assert!(n(&young, "in_flight") >= 1, "{young}");
    assert_eq!((n(&young, "repaired"), n(&young, "stale_intents")), (0, 0), "{young}");
    advance(&app, 600).await;
    let r = reconcile(&app).await;
    assert_eq!((n(&r, "stale_intents"), n(&r, "repaired")), (1, 0), "{r}");
    assert_eq!(app.keys("unused/").await.len(), files.len());
    assert!(app.keys("assigned/").await.is_empty());
    assert_eq!(app.ledger_count("revoke").await, files.len());
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn paid_orders_never_fulfilled_are_queued_again() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    app.ctx().faults.arm("webhook.enqueue", 1);
    app.sandbox_pay(&order_id, json!({})).await;
    advance(&app, 180).await;
    let r = reconcile(&app).await;
    assert_eq!(n(&r, "requeued"), 1, "{r}");
    app.wait_for(&order_id, &token, "fulfilled").await;
}

#[tokio::test]
async fn counters_that_drifted_follow_the_listings() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let tamper = vec![
        Change::Set("unused".into(), 7.into()),
        Change::Set("banned".into(), 2.into()),
        Change::Add("version".into(), 1),
    ];
    app.ctx().records.update(&keys::stock_counts(), tamper, None).await.unwrap();
    let r = reconcile(&app).await;
    assert_eq!((r["counters_checked"].as_bool(), r["counters_fixed"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(app.ledger_count("reconcile").await, 1);
    books_balance(&app, 0).await;
    settled(&app).await;
}

#[tokio::test]
async fn stock_levels_are_announced_once_per_change() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let products = |events: &[Value], kind: &str| {
        let mut p: Vec<String> =
            events.iter().filter(|e| e["type"] == kind).map(|e| s(&e["data"]["product_id"])).collect();
        p.sort();
        p
    };
    // 3 available, 2 purchases each: plans of 2 or 3 files are low, plans
    // of more are sold out (not one purchase covered).
    let said = app.all_events().await;
    assert_eq!(products(&said, "stock.low"), ["basic", "gold", "silver"]);
    assert_eq!(products(&said, "stock.sold_out"), ["diamond", "elite", "pro"]);
    assert_eq!(n(&reconcile(&app).await, "low_stock_alerts"), 0, "still the same dip");
    app.add_stock(1).await; // 4 available: silver (2 files) recovers
    app.checkout_ok("bronze", "nowpayments").await; // a hold: 3 again
    let (x, y) = tokio::join!(alerts::check_low_stock(app.ctx(), 2), alerts::check_low_stock(app.ctx(), 2));
    assert_eq!(x.unwrap() + y.unwrap(), 1, "one alert per dip, even from two checks at once");
    assert_eq!(alerts::check_low_stock(app.ctx(), 2).await.unwrap(), 0);
    let again = app.events("stock.low").await;
    assert_eq!(again.len(), 1);
    assert_eq!((s(&again[0]["product_id"]), again[0]["threshold"].as_i64()), ("silver".into(), Some(4)));
    // 7 available: diamond (6 files) and pro (7) sell again; elite (15) not.
    app.add_stock(4).await;
    let said = app.all_events().await;
    assert_eq!(products(&said, "stock.restocked"), ["diamond", "pro"]);
    assert!(said.iter().filter(|e| e["type"] == "stock.restocked").all(|e| e["data"]["available"] == 7), "{said:?}");
    assert!(products(&said, "stock.sold_out").is_empty());
    assert_eq!(alerts::check_low_stock(app.ctx(), 2).await.unwrap(), 0, "nothing changed since");
}

/// A stock alert says how long stock lasts at the last week's rate: 4
/// files sold in 7 days, 2 left -> 3.5 days.
#[tokio::test]
async fn a_stock_alert_says_the_days_of_cover() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    app.all_events().await;
    buy(&app, "silver").await;
    buy(&app, "silver").await;
    reconcile(&app).await;
    let said = app.all_events().await;
    let of = |kind: &str, product: &str| {
        said.iter().find(|e| e["type"] == kind && e["data"]["product_id"] == product).map(|e| e["data"].clone())
    };
    let low = of("stock.low", "silver").unwrap_or_else(|| panic!("silver is low: {said:?}"));
    assert_eq!((low["available"].as_i64(), low["days_of_cover"].as_f64()), (Some(2), Some(3.5)), "{low}");
    let out = of("stock.sold_out", "gold").unwrap_or_else(|| panic!("gold is sold out: {said:?}"));
    assert_eq!(out["days_of_cover"].as_f64(), Some(3.5), "{out}");
}

#[tokio::test]
async fn two_reconciles_at_once_repair_once() {
    let app = spawn_app().await;
    let names = app.add_stock(2).await;
    app.ctx().files.move_file(&format!("unused/{}", names[0]), &format!("banned/{}", names[0])).await.unwrap();
    for i in 0..4 {
        app.ctx().files.put(&format!("unused/new-{i}.session"), b"x".to_vec(), true).await.unwrap();
    }
    let (a, b) = tokio::join!(reconcile(&app), reconcile(&app));
    assert_eq!(n(&a, "repaired") + n(&b, "repaired"), 1, "{a}\n{b}");
    assert_eq!(n(&a, "adopted") + n(&b, "adopted"), 4, "{a}\n{b}");
    assert_eq!((app.ledger_count("reconcile").await, app.ledger_count("restock").await), (1, 6));
    books_balance(&app, 0).await;
    settled(&app).await;
}
