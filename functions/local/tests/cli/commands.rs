//! stock, reconcile, expire and token against a running stack.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::stack;

#[tokio::test(flavor = "multi_thread")]
async fn stock_table_shows_the_api_numbers() {
    let app = stack().await;
    app.add_stock(&["a-1.session", "a-2.session", "a-3.session"]).await;
    app.hold_one().await;
    let api = app.stock().await;
    assert_eq!((api["unused"].as_u64(), api["reserved"].as_i64()), (Some(3), Some(1)), "{api}");

    let run = app.cli(&["stock"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let table = run.pairs();
    for field in ["unused", "reserved", "available", "assigned", "banned", "frozen"] {
        assert_eq!(
            table.get(field).map(String::as_str),
            Some(api[field].to_string().as_str()),
            "{field}: {}",
            run.stdout
        );
    }
    assert_eq!(table["available"], "2");

    let raw = app.cli(&["stock", "--json"]).await;
    let parsed: Value = serde_json::from_str(raw.stdout.trim()).expect("--json prints JSON");
    assert_eq!(parsed, api);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_and_expire_print_their_reports() {
    let app = stack().await;
    std::fs::create_dir_all(app.dir.path().join("files/unused")).expect("mkdir");
    std::fs::write(app.dir.path().join("files/unused/new-1.session"), "s").expect("write");

    let run = app.cli(&["reconcile"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.pairs();
    assert_eq!(report["adopted"], "1", "{}", run.stdout);
    assert!(report.contains_key("scanned") && report.contains_key("counters_checked"), "{}", run.stdout);
    assert_eq!(app.stock().await["unused"], 1);

    let again = app.cli(&["reconcile", "--json"]).await;
    let v: Value = serde_json::from_str(again.stdout.trim()).expect("json report");
    assert_eq!(v["adopted"], 0, "adopted once only");

    let run = app.cli(&["expire"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.pairs();
    for field in ["holds_released", "moved_to_grace", "expired", "files_released"] {
        assert_eq!(report.get(field).map(String::as_str), Some("0"), "{field}: {}", run.stdout);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn minted_tokens_work_against_the_api_with_their_role() {
    let app = stack().await;
    let run = app.cli(&["token", "--role", "customer_service", "--sub", "carol", "--hours", "2"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "only the token on stdout");
    let token = run.stdout.trim();

    let (status, _) = app.api("GET", "/admin/stock", token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.api("POST", "/admin/reconcile", token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customer_service may not reconcile");

    // Through the CLI: the role's refusal is reported, exit 1.
    let run = app.cli(&["--token", token, "reconcile"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: POST /admin/reconcile: 403 Forbidden: "), "{}", run.stderr);
    assert!(run.stderr.contains("not allowed for role"), "problem detail shown: {}", run.stderr);

    // The default is admin, which may reconcile.
    let admin = app.cli(&["token"]).await;
    let (status, _) = app.api("POST", "/admin/reconcile", admin.stdout.trim()).await;
    assert_eq!(status, StatusCode::OK);

    for bad in [
        &["token", "--role", "owner"][..],
        &["token", "--hours", "0"],
        &["token", "--hours", "13"],
        &["token", "--hours", "25"],
        &["token", "--sub", " "],
    ] {
        let run = app.cli(bad).await;
        assert_ne!(run.code, 0, "{bad:?}");
        assert!(run.stdout.is_empty(), "no token printed for {bad:?}");
    }
    app.stop().await;
}
