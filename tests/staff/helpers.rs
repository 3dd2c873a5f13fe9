//! Staff calls, purchases and the books, for the staff suite.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use shared::http::auth::Role;
use shared::services::items::from_item;
use shared::services::model::FileRecord;
use shared::services::{keys, stock};
use stockroom_tests::{TestApp, s};

pub async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
    let mut req = app.client.request(method, format!("{}{path}", app.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

pub async fn ledger(app: &TestApp, query: &str) -> Value {
    let r =
        call(app, Method::GET, &format!("/admin/ledger{query}"), Some(&app.staff_token(Role::CustomerService)), None)
            .await;
    assert_eq!(r.status(), 200, "ledger {query}");
    r.json().await.unwrap()
}

/// Every page of `filter` (`kind=sale&...`), newest first, following the cursors.
pub async fn pages(app: &TestApp, filter: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let c = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = ledger(app, &format!("?limit={limit}&{filter}{c}")).await;
        let next = page["next_cursor"].as_str().map(str::to_string);
        out.push(page);
        match next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// Every entry matching `filter`, newest first, page by page.
pub async fn all_entries(app: &TestApp, filter: &str, limit: usize) -> Vec<Value> {
    pages(app, filter, limit).await.iter().flat_map(|p| p["entries"].as_array().unwrap().clone()).collect()
}

/// Adds `entries` and `delta` to `kind`'s totals in a per-kind summary.
fn add_to(totals: &mut serde_json::Map<String, Value>, kind: &str, entries: i64, delta: i64) {
    let t = totals.entry(kind.to_string()).or_insert_with(|| json!({"entries": 0, "delta": 0}));
    *t = json!({
        "entries": t["entries"].as_i64().unwrap() + entries,
        "delta": t["delta"].as_i64().unwrap() + delta,
    });
}

/// Adds a page's `summary` (an object, per kind) into `totals`.
pub fn add_summary(totals: &mut serde_json::Map<String, Value>, summary: &Value) {
    for (kind, v) in summary.as_object().expect("summary is always an object") {
        add_to(totals, kind, v["entries"].as_i64().unwrap(), v["delta"].as_i64().unwrap());
    }
}

/// Per kind `{entries, delta}` of `entries`, as a page's `summary` states it.
pub fn summary_of(entries: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    for e in entries {
        add_to(&mut out, &s(&e["kind"]), 1, e["delta"].as_i64().unwrap());
    }
    Value::Object(out)
}

/// The summaries of every page of `filter` added up (the whole filter's
/// totals); each page's summary is checked to be that page's own.
pub async fn summed_summary(app: &TestApp, filter: &str, limit: usize) -> Value {
    let mut total = serde_json::Map::new();
    for page in pages(app, filter, limit).await {
        assert_eq!(page["summary"], summary_of(page["entries"].as_array().unwrap()), "the page's own summary");
        add_summary(&mut total, &page["summary"]);
    }
    Value::Object(total)
}

pub fn ids(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| s(&e["id"])).collect()
}

pub async fn adjust_as(app: &TestApp, role: Role, action: &str, files: &[&str], reason: &str) -> Response {
    let body = json!({"action": action, "files": files, "reason": reason});
    call(app, Method::POST, "/admin/stock/adjust", Some(&app.staff_token(role)), Some(body)).await
}

/// An adjustment that must be accepted: the per-file results.
pub async fn adjust(app: &TestApp, action: &str, files: &[&str], reason: &str) -> Vec<Value> {
    let r = adjust_as(app, Role::InventoryManager, action, files, reason).await;
    assert_eq!(r.status(), 200, "adjust {action}");
    let v: Value = r.json().await.unwrap();
    v["results"].as_array().unwrap().clone()
}

pub async fn record(app: &TestApp, name: &str) -> Option<FileRecord> {
    app.ctx().records.get(&keys::file(name)).await.unwrap().map(|i| from_item(i).unwrap())
}

/// A fulfilled order: (order_id, user_id, subscription_id, files).
pub async fn buy(app: &TestApp, product: &str) -> (String, String, String, Vec<String>) {
    let (order_id, token, _) = app.checkout_ok(product, "stripe").await;
    app.sandbox_pay(&order_id, json!({})).await;
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    let files = order["subscription"]["files"].as_array().unwrap().iter().map(s).collect();
    let item = app.ctx().records.get(&keys::order(&order_id)).await.unwrap().unwrap();
    (order_id, s(&item["user_id"]), s(&order["subscription"]["id"]), files)
}

pub async fn reconcile(app: &TestApp) -> Value {
    let r = app.post_admin("/admin/reconcile", json!({})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn advance(app: &TestApp, seconds: i64) {
    assert_eq!(app.post("/sandbox/clock", json!({"advance_seconds": seconds})).await.status(), 200);
}

/// Listing counts per prefix: unused, assigned, banned, frozen.
pub async fn listed(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for p in ["unused/", "assigned/", "banned/", "frozen/"] {
        out.push(app.keys(p).await.len() as i64);
    }
    out
}

/// Counters equal the listings and every listed file's record points at it.
pub async fn books_balance(app: &TestApp) {
    for p in ["unused/", "assigned/", "banned/", "frozen/"] {
        for key in app.keys(p).await {
            let rec = record(app, key.rsplit('/').next().unwrap()).await.unwrap_or_else(|| panic!("no record: {key}"));
            assert_eq!(rec.storage_key(), key);
        }
    }
    let c = stock::read_counts(app.ctx()).await.unwrap().counts;
    assert_eq!(vec![c.unused, c.assigned, c.banned, c.frozen], listed(app).await, "counters == listings");
}

/// A second reconcile finds nothing to repair and proves the counters.
pub async fn settled(app: &TestApp) {
    let r = reconcile(app).await;
    for f in ["adopted", "repaired", "ghosts", "lost", "duplicates", "stale_intents", "in_flight", "drift", "errors"] {
        assert_eq!(r[f], 0, "{f}: {r}");
    }
    assert_eq!((r["counters_checked"].as_bool(), r["counters_fixed"].as_bool()), (Some(true), Some(false)), "{r}");
}
