//! An add-on's refund takes back the files it holds now: a file that was
//! replaced goes back as its replacement, and a flagged file that leaves
//! stops waiting for one, so the replacements queued behind it are filled.

use serde_json::{Value, json};
use stockroom_tests::{TestApp, s, spawn_app};

use crate::refunds::{addon, plan, refund};

/// The subscription's file names (the entitlement lists storage keys).
async fn files(app: &TestApp, sub: &str) -> Vec<String> {
    let e = app.entitlement(sub).await;
    e["files"]
        .as_array()
        .map(|a| a.iter().map(|k| s(k).rsplit('/').next().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

/// Staff ban one file: its result.
async fn ban(app: &TestApp, file: &str) -> Value {
    let body = json!({"action": "ban", "files": [file], "reason": "banned by the network"});
    let r = app.post_admin("/admin/stock/adjust", body).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["results"][0].clone()
}

/// A bronze plan with an extra-account add-on: (subscription, the plan's
/// file, the add-on's file, the add-on's order).
async fn with_addon(app: &TestApp) -> (String, String, String, String) {
    app.add_stock(2).await;
    let (sub, _, token) = plan(app, "bronze").await;
    let base = files(app, &sub).await;
    let extra = addon(app, "extra-account", &sub, &token, false).await;
    let added = files(app, &sub).await.into_iter().find(|f| !base.contains(f)).unwrap();
    (sub, base[0].clone(), added, extra)
}

#[tokio::test]
async fn an_add_on_refund_takes_back_the_replacement_of_its_banned_file() {
    let app = spawn_app().await;
    let (sub, base, added, extra) = with_addon(&app).await;
    let spare = app.add_stock(1).await;
    let r = ban(&app, &added).await;
    assert_eq!((r["outcome"].as_str(), s(&r["replacement"])), (Some("replaced"), spare[0].clone()), "{r}");

    let (status, report) = refund(&app, &extra).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(files(&app, &sub).await, vec![base.clone()], "the replacement left with the refund");
    assert_eq!(app.keys("unused/").await, vec![format!("unused/{}", spare[0])], "back in stock");
    assert_eq!(app.keys("banned/").await, vec![format!("banned/{added}")], "the banned file stays banned");
    assert_eq!(app.keys("assigned/").await.len(), 1);
    assert_eq!(app.ledger_count("refund").await, 1);
    // Again: nothing more moves.
    assert_eq!(refund(&app, &extra).await.0, 200);
    assert_eq!(app.keys("unused/").await.len(), 1);
    assert_eq!(app.ledger_count("refund").await, 1);
    let r: Value = app.post_admin("/admin/reconcile", json!({})).await.json().await.unwrap();
    assert_eq!(r["invariants"]["violations"], json!([]), "{r}");
}

#[tokio::test]
async fn a_provider_refund_of_an_add_on_takes_back_the_replacement_too() {
    let app = spawn_app().await;
    let (sub, base, added, extra) = with_addon(&app).await;
    let spare = app.add_stock(1).await;
    assert_eq!(ban(&app, &added).await["outcome"], "replaced");
    let paid = app.sandbox_pay(&extra, json!({"status": "refunded"})).await;
    assert_eq!(paid["webhook_status"], 200, "{paid}");
    assert_eq!(files(&app, &sub).await, vec![base], "the refund's own commit lets it go");
    app.eventually("the replacement is back in stock and booked", || async {
        app.keys("unused/").await == vec![format!("unused/{}", spare[0])] && app.ledger_count("refund").await == 1
    })
    .await;
}

#[tokio::test]
async fn a_repeat_of_a_cut_short_add_on_refund_moves_the_replacement_back() {
    let app = spawn_app().await;
    let (sub, base, added, extra) = with_addon(&app).await;
    let spare = app.add_stock(1).await;
    assert_eq!(ban(&app, &added).await["outcome"], "replaced");
    // Committed, then cut short before the file moved.
    app.ctx().faults.arm("refund.after_commit", 1);
    assert_eq!(refund(&app, &extra).await.0, 500);
    assert_eq!(files(&app, &sub).await, vec![base]);
    assert!(app.keys("unused/").await.is_empty(), "not moved yet");
    // Staff repeat it: the repeat finishes the take-back it began.
    assert_eq!(refund(&app, &extra).await.0, 200);
    assert_eq!(app.keys("unused/").await, vec![format!("unused/{}", spare[0])]);
    assert_eq!(app.ledger_count("refund").await, 1);
}

#[tokio::test]
async fn a_flagged_file_taken_back_by_a_refund_stops_waiting_and_blocks_no_other_replacement() {
    use shared::services::store::{replacements, subscriptions};
    let app = spawn_app().await;
    let (sub, base, added, extra) = with_addon(&app).await;
    app.add_stock(1).await;
    let bob = app.buy_body(json!({"email": "bob@example.com", "product_id": "bronze", "provider": "stripe"})).await;
    let (bob_sub, bob_file) =
        (s(&bob["subscription"]["id"]), files(&app, &s(&bob["subscription"]["id"])).await[0].clone());
    // No stock: both bans flag the file, and the replacements wait (Ann's first).
    assert_eq!(ban(&app, &added).await["outcome"], "flagged");
    assert_eq!(ban(&app, &bob_file).await["outcome"], "flagged");

    assert_eq!(refund(&app, &extra).await.0, 200);
    assert_eq!(files(&app, &sub).await, vec![base]);
    assert!(app.keys("banned/").await.contains(&format!("banned/{added}")), "a flagged file goes to banned/");
    let ann = subscriptions::get(app.ctx(), &sub).await.unwrap().unwrap();
    assert!(ann.flagged.is_empty(), "it left, so it is no longer flagged: {:?}", ann.flagged);
    let waits: Vec<String> =
        replacements::all(app.ctx()).read_all().await.unwrap().into_iter().map(|w| w.subscription_id).collect();
    assert_eq!(waits, vec![bob_sub.clone()], "only Bob's replacement still waits");

    // Stock returns: Bob's replacement is filled.
    let fresh = app.add_stock(1).await;
    assert_eq!(files(&app, &bob_sub).await, fresh, "the waiting replacement was filled");
    assert!(app.keys("banned/").await.contains(&format!("banned/{bob_file}")));
    let r: Value = app.post_admin("/admin/reconcile", json!({})).await.json().await.unwrap();
    assert_eq!(r["invariants"]["violations"], json!([]), "{r}");
}
