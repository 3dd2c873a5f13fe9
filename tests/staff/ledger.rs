//! GET /admin/ledger: filters, summary, pages, CSV, bad queries.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;
use shared::http::admin::CSV_HEADER;
use shared::http::auth::Role;
use stockroom_tests::{problem, s, spawn_app};

use super::helpers::{adjust, advance, all_entries, buy, call, ids, ledger};

#[tokio::test]
async fn filters_narrow_and_the_summary_covers_the_whole_filter() {
    let app = spawn_app().await;
    let names = app.add_stock(5).await;
    let (order_id, _, _, files) = buy(&app, "silver").await;
    let restock = ledger(&app, "?kind=restock&limit=2&summary=true").await;
    assert_eq!(restock["entries"].as_array().unwrap().len(), 2);
    assert_eq!(restock["summary"], serde_json::json!({"restock": {"entries": 5, "delta": 5}}));
    assert!(restock["next_cursor"].is_string());

    let by_order = ledger(&app, &format!("?reference={order_id}&summary=true")).await;
    let kinds: Vec<String> = by_order["entries"].as_array().unwrap().iter().map(|e| s(&e["kind"])).collect();
    assert_eq!(kinds, ["sale", "sale", "hold"], "newest first");
    assert_eq!(by_order["summary"]["sale"]["entries"], 2);
    assert!(by_order["next_cursor"].is_null());

    let file = &files[0];
    let one = ledger(&app, &format!("?file={file}&summary=true")).await;
    let kinds: Vec<String> = one["entries"].as_array().unwrap().iter().map(|e| s(&e["kind"])).collect();
    assert_eq!(kinds, ["sale", "restock"]);
    let e = &one["entries"][0];
    for f in ["id", "at", "kind", "file", "delta", "before", "after", "counts", "reason", "reference", "actor"] {
        assert!(!e[f].is_null(), "entry has {f}: {e}");
    }
    assert_eq!(e["actor"], "fulfil");
    assert!(names.contains(&s(&e["file"])));

    let two = ledger(&app, "?kind=sale,hold&summary=true").await;
    assert_eq!(two["summary"].as_object().unwrap().len(), 2);
    assert_eq!(two["summary"]["hold"]["delta"], -2);
}

#[tokio::test]
async fn time_ranges_take_rfc3339_or_epoch_millis() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    advance(&app, 7200).await;
    let later = app.ctx().clock.now();
    app.add_stock(2).await;
    let since_ms = ledger(&app, &format!("?since={}&summary=true", later.millis())).await;
    assert_eq!(since_ms["entries"].as_array().unwrap().len(), 2);
    let rfc = later.rfc3339();
    let since = ledger(&app, &format!("?since={}&summary=true", urlencode(&rfc))).await;
    assert_eq!(since["summary"]["restock"]["entries"], 2);
    let until = ledger(&app, &format!("?until={}&summary=true", later.plus_millis(-1).millis())).await;
    assert_eq!(until["summary"]["restock"]["entries"], 3);
    let none = ledger(&app, &format!("?since={0}&until={0}&summary=true", later.plus_millis(-1).millis())).await;
    assert_eq!(none["entries"], serde_json::json!([]));
    assert_eq!(none["summary"], serde_json::json!({}));
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_while_new_entries_arrive() {
    let app = spawn_app().await;
    app.add_stock(23).await;
    let before = ids(&all_entries(&app, "kind=restock", 500).await);
    assert_eq!(before.len(), 23);
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let c = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = ledger(&app, &format!("?kind=restock&limit=5{c}")).await;
        walked.extend(ids(page["entries"].as_array().unwrap()));
        assert!(page["summary"].is_null(), "a page alone has no summary (it would read the whole filter)");
        // New stock between pages lands above the cursor: not in this walk.
        app.add_stock(1).await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, before, "same entries, same order, nothing twice");
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 23);
    let mut sorted = walked.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(walked, sorted, "newest first");
}

#[tokio::test]
async fn csv_carries_the_same_page_quoted() {
    let app = spawn_app().await;
    let names = app.add_stock(4).await;
    let reason = "broken, \"badly\"\nsecond line";
    adjust(&app, "freeze", &[&names[0]], reason).await;
    adjust(&app, "ban", &[&names[1]], "=HYPERLINK(\"x\")").await;
    let json = ledger(&app, "?limit=3").await;
    let t = app.staff_token(Role::CustomerService);
    let r = app
        .client
        .get(format!("{}/admin/ledger?limit=3", app.url))
        .bearer_auth(&t)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let next = r.headers().get("next-cursor").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(next.as_deref(), json["next_cursor"].as_str());
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(rows.len(), entries.len());
    for (row, e) in rows.iter().zip(entries) {
        assert_eq!(&row[0], e["id"].as_str().unwrap());
        assert_eq!(&row[2], e["kind"].as_str().unwrap());
        assert_eq!(row[4].parse::<i64>().unwrap(), e["delta"].as_i64().unwrap());
    }
    assert_eq!(&rows[0][12], "'=HYPERLINK(\"x\")", "formulas are defused");
    assert_eq!(&rows[1][12], reason, "commas, quotes and newlines survive");
    assert_eq!(&rows[1][14], "staff:tester");
    // The last page has no Next-Cursor.
    let c = next.unwrap();
    let last = app
        .client
        .get(format!("{}/admin/ledger?limit=500&cursor={c}", app.url))
        .bearer_auth(&t)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(last.headers().get("next-cursor").is_none());
}

#[tokio::test]
async fn bad_queries_are_400_problems() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let t = app.staff_token(Role::Admin);
    for q in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "kind=sales",
        "kind=sale,",
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "since=2000&until=1000",
        "cursor=not-a-cursor",
        "cursor=bGVkZ2VyMTo0Mg",
        "kind=sale&kind=hold",
    ] {
        let r = call(&app, Method::GET, &format!("/admin/ledger?{q}"), Some(&t), None).await;
        let (status, body) = problem(r).await;
        assert_eq!(status, 400, "{q}: {body}");
    }
    let ok: Value =
        call(&app, Method::GET, "/admin/ledger?limit=500&kind=&file=", Some(&t), None).await.json().await.unwrap();
    assert_eq!(ok["entries"].as_array().unwrap().len(), 1, "empty values mean no filter");
}
