//! The checks every crash test ends with, and the crash driver.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use shared::ports::{Index, Query};
use shared::services::faults::Mode;
use shared::services::items::from_item;
use shared::services::model::FileRecord;
use shared::services::{credits, keys, stock};
use stockroom_tests::TestApp;

pub const PLACES: [&str; 4] = ["unused/", "assigned/", "banned/", "frozen/"];
pub const EMAIL: &str = "buyer@example.com";

pub async fn advance(app: &TestApp, seconds: i64) {
    assert_eq!(app.post("/sandbox/clock", json!({"advance_seconds": seconds})).await.status(), 200);
}

pub async fn reconcile(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/reconcile", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// Reconcile after recovery may finish stale intents, never repair: a
/// repair would mean a crash left the records wrong.
pub async fn reconcile_finds_no_damage(app: &TestApp, why: &str) -> Value {
    let r = reconcile(app).await;
    for f in ["adopted", "repaired", "ghosts", "lost", "duplicates", "drift", "errors"] {
        assert_eq!(r[f], 0, "{why}: {f}: {r}");
    }
    r
}

/// Every stock file in exactly one place, records and counters agreeing
/// with storage, the ledger agreeing with both, and nothing left to repair.
pub async fn check(app: &TestApp, stock_files: &[String], why: &str) {
    let mut places: HashMap<String, Vec<String>> = HashMap::new();
    for p in PLACES {
        for key in app.keys(p).await {
            let name = key.rsplit('/').next().unwrap_or_default().to_string();
            let rec =
                app.ctx().records.get(&keys::file(&name)).await.unwrap().map(|i| from_item::<FileRecord>(i).unwrap());
            assert_eq!(rec.map(|r| r.storage_key()).as_deref(), Some(key.as_str()), "{why}: record of {key}");
            places.entry(name).or_default().push(key);
        }
    }
    for f in stock_files {
        assert_eq!(places.get(f).map(Vec::len), Some(1), "{why}: {f} is in {:?}", places.get(f));
    }
    assert_eq!(places.len(), stock_files.len(), "{why}: stray files {places:?}");
    let c = stock::read_counts(app.ctx()).await.unwrap().counts;
    let listed: Vec<i64> = places_count(&places);
    assert_eq!(vec![c.unused, c.assigned, c.banned, c.frozen], listed, "{why}: counters == listings");
    assert_eq!(c.reserved, 0, "{why}: no hold left");
    // The ledger: its last counts are the counters, and per file, sales
    // minus returns is 1 exactly when the file is assigned.
    let entries = ledger(app).await;
    let last = entries.last().map(|e| e["counts"].clone()).unwrap_or_default();
    assert_eq!(last["unused"].as_i64(), Some(c.unused), "{why}: ledger ends at the counters");
    assert_eq!(last["assigned"].as_i64(), Some(c.assigned), "{why}: ledger ends at the counters");
    for (name, keys) in &places {
        let of = |kinds: &[&str]| {
            entries
                .iter()
                .filter(|e| e["file"] == name.as_str() && kinds.contains(&e["kind"].as_str().unwrap_or("")))
                .count()
        };
        let held = of(&["sale"]) as i64 - of(&["revoke", "refund"]) as i64;
        assert_eq!(held, i64::from(keys[0].starts_with("assigned/")), "{why}: ledger of {name}");
    }
    // Credits: the account equals its entries, each transfer's step once.
    let audit = credits::audit(app.ctx(), EMAIL).await.unwrap();
    assert!(audit.ok(), "{why}: {audit:?}");
    let view = credits::view(app.ctx(), EMAIL).await.unwrap();
    let mut ids: Vec<&str> = view.entries.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "{why}: a credit entry twice");
    let r = reconcile_finds_no_damage(app, why).await;
    assert_eq!(r["stale_intents"], 0, "{why}: {r}");
    assert_eq!(r["in_flight"], 0, "{why}: {r}");
}

fn places_count(places: &HashMap<String, Vec<String>>) -> Vec<i64> {
    PLACES.iter().map(|p| places.values().filter(|k| k[0].starts_with(p)).count() as i64).collect()
}

/// Every ledger entry, oldest first.
pub async fn ledger(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Table, "LEDGER").limit(500).after(cursor);
        let page = app.ctx().records.query(q).await.expect("ledger");
        out.extend(page.items.into_iter().map(|i| serde_json::to_value(i).expect("item")));
        match page.next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// The buyer's credit entries of one kind.
pub async fn credit_entries(app: &TestApp, kind: &str) -> usize {
    let v = serde_json::to_value(credits::view(app.ctx(), EMAIL).await.unwrap()).unwrap();
    v["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).count()
}

pub async fn balance(app: &TestApp) -> (i64, i64) {
    let v = credits::view(app.ctx(), EMAIL).await.unwrap();
    (v.posted, v.pending_in)
}

/// Waits until the armed point has been passed (the worker is asynchronous).
pub async fn wait_hit(app: &TestApp, point: &str) {
    for _ in 0..400 {
        if app.ctx().faults.remaining(point) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{point} was never reached");
}

/// Runs `op` on its own task with `point` armed in `mode`: a `Fail` must
/// come back as an error, an `Abort` as a dead task, after which the stack
/// is restarted on the same data (`clock` seconds put back on its clock).
pub async fn crash<F, T>(app: &mut TestApp, point: &'static str, mode: Mode, clock: i64, op: F)
where
    F: FnOnce(std::sync::Arc<shared::services::Ctx>) -> T,
    T: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    app.ctx().faults.arm_mode(point, 1, mode);
    let done = tokio::spawn(op(app.ctx().clone())).await;
    assert_eq!(app.ctx().faults.remaining(point), 0, "{point} was not reached");
    match mode {
        Mode::Fail => assert!(matches!(done, Ok(Err(_))), "{point}: {done:?}"),
        Mode::Abort => {
            assert!(done.as_ref().is_err_and(|e| e.is_panic()), "{point}: {done:?}");
            restart(app, clock).await;
        }
    }
}

/// The process died: a new one on the same data, its clock where it was.
pub async fn restart(app: &mut TestApp, clock: i64) {
    app.restart().await;
    if clock != 0 {
        advance(app, clock).await;
    }
}

pub const MODES: [Mode; 2] = [Mode::Fail, Mode::Abort];
