//! The ledger never disagrees with the stock: after a mixed history,
//! replaying every entry from empty gives today's counters, which equal the
//! storage listings.

use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::StockCounts;
use stockroom_tests::{s, spawn_app};

use super::helpers::{adjust, advance, all_entries, buy, call, listed, reconcile, settled, summed_summary};
use shared::services::stock;

fn counts(v: &Value) -> StockCounts {
    serde_json::from_value(v.clone()).unwrap()
}

fn diff(a: StockCounts, b: StockCounts) -> [i64; 5] {
    [b.unused - a.unused, b.reserved - a.reserved, b.assigned - a.assigned, b.banned - a.banned, b.frozen - a.frozen]
}

/// The count changes each kind may make (unused, reserved, assigned, banned, frozen).
fn allowed(kind: &str, d: [i64; 5]) -> bool {
    match kind {
        "restock" => d == [1, 0, 0, 0, 0],
        "hold" => d[1] > 0 && [d[0], d[2], d[3], d[4]] == [0; 4],
        "release" => d[1] < 0 && [d[0], d[2], d[3], d[4]] == [0; 4],
        "sale" => d == [-1, -1, 1, 0, 0] || d == [-1, 0, 1, 0, 0],
        "revoke" | "refund" => d == [1, 0, -1, 0, 0] || d == [0, 0, -1, 1, 0],
        "ban" => [[-1, 0, 0, 1, 0], [0, 0, 0, 1, -1], [0, 0, -1, 1, 0], [-1, 0, 1, 0, 0], [0; 5]].contains(&d),
        "freeze" => d == [-1, 0, 0, 0, 1],
        "unfreeze" => d == [1, 0, 0, 0, -1],
        "write_off" => [[-1, 0, 0, 0, 0], [0, 0, 0, -1, 0], [0, 0, 0, 0, -1]].contains(&d),
        "reconcile" => d[1] == 0,
        _ => false,
    }
}

#[tokio::test]
async fn replaying_the_ledger_from_empty_gives_todays_counts() {
    let app = spawn_app().await;
    let n = app.add_stock(12).await;
    let (a, _, sub_a, _) = buy(&app, "bronze").await;
    let (b, _, _, _) = buy(&app, "silver").await;
    let (_unpaid, _, _) = app.checkout_ok("bronze", "nowpayments").await;
    advance(&app, 7200).await;
    assert_eq!(app.post_admin("/admin/expire", json!({})).await.status(), 200);
    assert_eq!(app.post_admin(&format!("/admin/subscriptions/{sub_a}/revoke"), json!({})).await.status(), 200);
    assert_eq!(app.post_admin(&format!("/admin/orders/{b}/refund"), json!({})).await.status(), 200);
    let (_, _, sub_d, d_files) = buy(&app, "bronze").await;
    // Staff adjustments on free files (those still unused).
    let free: Vec<String> =
        app.keys("unused/").await.iter().map(|k| k.trim_start_matches("unused/").to_string()).collect();
    assert!(free.len() >= 6, "{free:?}");
    adjust(&app, "freeze", &[&free[0], &free[1]], "check").await;
    adjust(&app, "unfreeze", &[&free[0]], "fine").await;
    adjust(&app, "ban", &[&free[2]], "platform ban").await;
    adjust(&app, "write_off", &[&free[1], &free[3]], "dead").await;
    let r = adjust(&app, "ban", &[&d_files[0]], "reported").await;
    assert_eq!(r[0]["outcome"], "replaced");
    let admin = app.admin_token();
    assert_eq!(
        call(&app, Method::DELETE, &format!("/admin/subscriptions/{sub_d}"), Some(&admin), None).await.status(),
        200
    );
    // Drift built by hand: reconcile books it.
    let files = &app.ctx().files;
    files.move_file(&format!("unused/{}", free[4]), &format!("frozen/{}", free[4])).await.unwrap();
    files.put("unused/walk-in.session", b"x".to_vec(), true).await.unwrap();
    let r = reconcile(&app).await;
    assert_eq!((r["repaired"].as_u64(), r["adopted"].as_u64()), (Some(1), Some(1)), "{r}");
    settled(&app).await;
    let _ = (a, n);

    let mut entries = all_entries(&app, "", 7).await;
    entries.reverse();
    let kinds: std::collections::HashSet<String> = entries.iter().map(|e| s(&e["kind"])).collect();
    for k in [
        "restock",
        "hold",
        "release",
        "sale",
        "revoke",
        "refund",
        "ban",
        "freeze",
        "unfreeze",
        "write_off",
        "reconcile",
    ] {
        assert!(kinds.contains(k), "history has {k}");
    }
    let mut replayed = StockCounts::default();
    let mut available = 0;
    for e in &entries {
        let after = counts(&e["counts"]);
        let d = diff(replayed, after);
        assert!(allowed(e["kind"].as_str().unwrap(), d), "entry {e} changes {d:?}");
        assert_eq!(e["before"].as_i64().unwrap(), available, "chain at {}", e["id"]);
        assert_eq!(e["after"].as_i64().unwrap() - available, e["delta"].as_i64().unwrap());
        replayed = stock::add(
            replayed,
            StockCounts { unused: d[0], reserved: d[1], assigned: d[2], banned: d[3], frozen: d[4] },
        );
        available = replayed.available();
        assert_eq!(e["after"].as_i64().unwrap(), available);
    }
    let now = stock::read_counts(app.ctx()).await.unwrap().counts;
    assert_eq!(replayed, now, "replay == counters");
    assert_eq!(vec![now.unused, now.assigned, now.banned, now.frozen], listed(&app).await, "counters == listings");
    let view = app.get_admin("/admin/stock").await;
    assert_eq!(view["available"].as_i64().unwrap(), available);
    let summary = summed_summary(&app, "", 7).await;
    let total: i64 = summary.as_object().unwrap().values().map(|k| k["delta"].as_i64().unwrap()).sum();
    assert_eq!(total, available, "the summary's deltas add up to what is available");
}
