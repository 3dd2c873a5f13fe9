//! `stockroom ledger`: the real route (per the API.md contract) and the
//! paging against a scripted server.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::helpers::{cli_at, stack};

#[tokio::test(flavor = "multi_thread")]
async fn ledger_lists_restocks_from_the_running_stack() {
    let app = stack().await;
    app.add_stock(&["l-1.session", "l-2.session"]).await;

    let run = app.cli(&["ledger", "--kind", "restock"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("l-1.session") && run.stdout.contains("l-2.session"), "{}", run.stdout);
    assert!(run.stdout.contains("2 entries"), "{}", run.stdout);

    let run = app.cli(&["ledger", "--kind", "restock", "--limit", "1", "--csv"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "header and one entry: {}", run.stdout);
    assert!(lines[0].starts_with("at,kind,file,delta,before,after"), "{}", lines[0]);
    assert!(lines[1].contains(",restock,l-"), "{}", lines[1]);
    app.stop().await;
}

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// Six entries in pages of two (fewer when `limit` asks, as the API does);
/// the cursor is the next entry's number.
async fn scripted(State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let from: usize = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let size = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(2usize).min(2).min(6usize.saturating_sub(from));
    if let Ok(mut s) = seen.lock() {
        s.push(q);
    }
    let entries: Vec<Value> = (0..size)
        .map(|i| {
            let n = from + i;
            json!({"id": format!("e{n}"), "at": "2030-01-01T00:00:00Z", "kind": "restock", "file": format!("f{n}, \"quoted\""),
                   "delta": 1, "before": n, "after": n + 1, "reason": "", "reference": "run-1", "actor": "job"})
        })
        .collect();
    let next = if from + size < 6 { json!((from + size).to_string()) } else { Value::Null };
    let summary = json!({"restock": {"entries": size, "delta": size}});
    Json(json!({"entries": entries, "summary": summary, "next_cursor": next}))
}

#[tokio::test(flavor = "multi_thread")]
async fn ledger_follows_the_cursor_up_to_the_limit_and_passes_filters() {
    let seen: Seen = Arc::default();
    let router = Router::new().route("/admin/ledger", get(scripted)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let data = tempfile::tempdir().expect("dir");

    let args =
        ["ledger", "--kind", "restock", "--reference", "run-1", "--since", "2030-01-01T00:00:00Z", "--limit", "5"];
    let run = cli_at(&url, data.path(), &args, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for n in 0..5 {
        assert!(run.stdout.contains(&format!("e{n}")), "entry {n}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("e5"), "stops at --limit: {}", run.stdout);
    assert!(run.stdout.contains("5 entries"), "{}", run.stdout);
    // Stopped at --limit before the last page: the summary is the shown entries'.
    assert!(run.stdout.contains("summary over the 5 entries shown"), "{}", run.stdout);
    let queries = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let limits: Vec<&str> = queries.iter().map(|q| q["limit"].as_str()).collect();
    assert_eq!(limits, ["5", "3", "1"]);
    assert!(queries.iter().all(|q| q["kind"] == "restock" && q["reference"] == "run-1" && q.contains_key("since")));

    let run = cli_at(&url, data.path(), &["ledger", "--csv"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 7, "header + every page: {}", run.stdout);
    assert!(run.stdout.contains("\"f0, \"\"quoted\"\"\""), "CSV quoting: {}", run.stdout);

    let run = cli_at(&url, data.path(), &["ledger"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("summary over the filter"), "read to the last page: {}", run.stdout);
}
