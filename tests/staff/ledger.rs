//! GET /admin/ledger: filters, per-page summaries that add up to the whole
//! filter, bounded pages over a long history, CSV, bad queries.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::{LedgerKind, Timestamp};
use shared::http::admin::CSV_HEADER;
use shared::http::auth::Role;
use shared::services::ledger::decode_cursor;
use shared::services::model::LedgerEntry;
use shared::services::store::{ledger_index, stock as book};
use stockroom_tests::{problem, s, spawn_app};

use super::helpers::{add_summary, adjust, advance, all_entries, buy, call, ids, ledger, summary_of, summed_summary};

#[tokio::test]
async fn filters_narrow_and_each_page_summarises_its_own_entries() {
    let app = spawn_app().await;
    let names = app.add_stock(5).await;
    let (order_id, _, _, files) = buy(&app, "silver").await;
    let restock = ledger(&app, "?kind=restock&limit=2").await;
    assert_eq!(restock["entries"].as_array().unwrap().len(), 2);
    assert_eq!(restock["summary"], json!({"restock": {"entries": 2, "delta": 2}}), "this page's two entries");
    assert!(restock["next_cursor"].is_string());
    assert_eq!(summed_summary(&app, "kind=restock", 2).await, json!({"restock": {"entries": 5, "delta": 5}}));

    let by_order = ledger(&app, &format!("?reference={order_id}")).await;
    let kinds: Vec<String> = by_order["entries"].as_array().unwrap().iter().map(|e| s(&e["kind"])).collect();
    assert_eq!(kinds, ["sale", "sale", "hold"], "newest first");
    assert_eq!(by_order["summary"]["sale"]["entries"], 2);
    assert!(by_order["next_cursor"].is_null());

    let file = &files[0];
    let one = ledger(&app, &format!("?file={file}")).await;
    let kinds: Vec<String> = one["entries"].as_array().unwrap().iter().map(|e| s(&e["kind"])).collect();
    assert_eq!(kinds, ["sale", "restock"]);
    let e = &one["entries"][0];
    for f in ["id", "at", "kind", "file", "delta", "before", "after", "counts", "reason", "reference", "actor"] {
        assert!(!e[f].is_null(), "entry has {f}: {e}");
    }
    assert_eq!(e["actor"], "fulfil");
    assert!(names.contains(&s(&e["file"])));

    let two = ledger(&app, "?kind=sale,hold").await;
    assert_eq!(two["summary"].as_object().unwrap().len(), 2);
    assert_eq!(two["summary"]["hold"]["delta"], -2);
}

/// Summed over every page, in any page size, the summaries are the whole
/// filter's totals, exactly: each matching entry is on one page only.
#[tokio::test]
async fn summaries_summed_over_the_pages_are_the_whole_filters_totals() {
    let app = spawn_app().await;
    let names = app.add_stock(9).await;
    adjust(&app, "freeze", &[&names[0], &names[1]], "check").await;
    adjust(&app, "ban", &[&names[1]], "bad").await;
    buy(&app, "silver").await;
    for filter in ["", "kind=restock", "kind=sale,hold,freeze,ban", "kind=refund"] {
        let every = all_entries(&app, filter, 500).await;
        let want = summary_of(&every);
        assert!(!filter.is_empty() || want.as_object().unwrap().len() >= 4, "several kinds: {want}");
        for limit in [1, 2, 3, 500] {
            assert_eq!(summed_summary(&app, filter, limit).await, want, "{filter}, pages of {limit}");
        }
    }
    let empty = ledger(&app, "?kind=refund").await;
    assert_eq!((&empty["entries"], &empty["summary"]), (&json!([]), &json!({})), "an object even when empty");
}

/// 3 matching entries in 2,500: each page reads at most 10 entries per entry
/// it may return (its next cursor is at most that far below the last), so a
/// page comes back short or empty with a cursor; the walk ends and finds
/// every match once. Once the ledger is marked indexed by reference, the
/// same filter reads only the three, in full pages.
#[tokio::test]
async fn a_page_reads_a_bounded_stretch_of_a_long_history() {
    let app = spawn_app().await;
    assert!(!ledger_index::complete(app.ctx()).await.unwrap(), "no stock change yet: the ledger is walked");
    const FIRST: u64 = 1_000_000;
    const N: u64 = 2_500;
    let needles = [FIRST + 10, FIRST + 1_200, FIRST + 2_480];
    let at = app.ctx().clock.now();
    let mut writes = Vec::new();
    for v in FIRST..FIRST + N {
        let needle = needles.contains(&v);
        let e = LedgerEntry {
            id: format!("E{v}"),
            seq: book::seq(v, 0),
            at: Timestamp(at.millis() - (FIRST + N - v) as i64),
            kind: if needle { LedgerKind::Sale } else { LedgerKind::Restock },
            file: Some(format!("f{v}.png")),
            delta: if needle { -1 } else { 1 },
            before: 0,
            after: 0,
            counts: Default::default(),
            reason: "history".into(),
            reference: if needle { "needle".into() } else { format!("hay-{v}") },
            actor: "test".into(),
        };
        writes.push(book::put_entry(&e).unwrap());
        if writes.len() == 100 || v == FIRST + N - 1 {
            app.ctx().records.transact(std::mem::take(&mut writes)).await.unwrap();
        }
    }
    let version = |c: &str| decode_cursor(c).unwrap()[..12].parse::<u64>().unwrap();
    let limit = 2;
    let (mut found, mut pages, mut empty_with_cursor) = (Vec::new(), 0, 0);
    let mut cursor: Option<String> = None;
    let mut total = serde_json::Map::new();
    loop {
        pages += 1;
        assert!(pages <= 2 * N as usize / (limit * 10) + 5, "the walk ends");
        let c = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = ledger(&app, &format!("?reference=needle&limit={limit}{c}")).await;
        let entries = page["entries"].as_array().unwrap();
        assert_eq!(page["summary"], summary_of(entries));
        add_summary(&mut total, &page["summary"]);
        found.extend(ids(entries));
        match page["next_cursor"].as_str() {
            Some(next) => {
                let from = cursor.as_deref().map_or(FIRST + N, version);
                let to = version(next);
                assert!(to < from, "the cursor moves down: {from} -> {to}");
                assert!(
                    from - to <= (limit * 10) as u64,
                    "page {pages} read {} entries for a limit of {limit}",
                    from - to
                );
                empty_with_cursor += usize::from(entries.is_empty());
                cursor = Some(next.to_string());
            }
            None => break,
        }
    }
    let want: Vec<String> = needles.iter().rev().map(|v| format!("E{v}")).collect();
    assert_eq!(found, want, "every match once, newest first");
    assert!(empty_with_cursor >= 100, "empty pages with a cursor: {empty_with_cursor} of {pages}");
    assert_eq!(
        Value::Object(total),
        json!({"sale": {"entries": 3, "delta": -3}}),
        "summed over the pages: the whole filter"
    );

    ledger_index::begun_indexed(app.ctx().records.as_ref()).await;
    let indexed = super::helpers::pages(&app, "reference=needle", limit).await;
    let sizes: Vec<usize> = indexed.iter().map(|p| p["entries"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [2, 1], "from the index: full pages");
    let found: Vec<String> = indexed.iter().flat_map(|p| ids(p["entries"].as_array().unwrap())).collect();
    assert_eq!(found, want, "the same matches from the index");
}

#[tokio::test]
async fn time_ranges_take_rfc3339_or_epoch_millis() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    advance(&app, 7200).await;
    let later = app.ctx().clock.now();
    app.add_stock(2).await;
    let since_ms = ledger(&app, &format!("?since={}", later.millis())).await;
    assert_eq!(since_ms["entries"].as_array().unwrap().len(), 2);
    let rfc = later.rfc3339();
    let since = ledger(&app, &format!("?since={}", urlencode(&rfc))).await;
    assert_eq!(since["summary"]["restock"]["entries"], 2);
    let until = ledger(&app, &format!("?until={}", later.plus_millis(-1).millis())).await;
    assert_eq!(until["summary"]["restock"]["entries"], 3);
    let none = ledger(&app, &format!("?since={0}&until={0}", later.plus_millis(-1).millis())).await;
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
        assert_eq!(page["summary"], summary_of(page["entries"].as_array().unwrap()), "this page's own summary");
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
    let odd_cursors = [
        URL_SAFE_NO_PAD.encode("ledger1:00000000004x.001"),
        URL_SAFE_NO_PAD.encode("orders1:000000000042.001"),
        URL_SAFE_NO_PAD.encode("ledger1:000000000042.001") + "=",
    ]
    .map(|c| format!("cursor={c}"));
    let plain = [
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
    ];
    for q in plain.iter().copied().chain(odd_cursors.iter().map(String::as_str)) {
        let r = call(&app, Method::GET, &format!("/admin/ledger?{q}"), Some(&t), None).await;
        let (status, body) = problem(r).await;
        assert_eq!(status, 400, "{q}: {body}");
    }
    let ok: Value =
        call(&app, Method::GET, "/admin/ledger?limit=500&kind=&file=", Some(&t), None).await.json().await.unwrap();
    assert_eq!(ok["entries"].as_array().unwrap().len(), 1, "empty values mean no filter");
    assert_eq!(ok["summary"], json!({"restock": {"entries": 1, "delta": 1}}));
}
