//! One-line errors and a non-zero exit, never a panic.

use crate::helpers::{cli_at, closed_port_url, stack};

fn one_line_error(stderr: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_or_unreachable_urls() {
    let dir = tempfile::tempdir().expect("dir");
    let run = cli_at(&closed_port_url(), dir.path(), &["stock"], &[]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);

    let run = cli_at("not a url", dir.path(), &["reconcile"], &[]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("is not a URL"), "{}", run.stderr);

    // No token is minted for a remote API.
    let run = cli_at("https://shop.example.com", dir.path(), &["stock"], &[]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no token"), "{}", run.stderr);

    // A server that is not Stockroom.
    let app = stack().await;
    let run = app.cli(&["--url", &format!("{}/no/such/base", app.url), "stock"]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_show_the_problem_detail() {
    let app = stack().await;
    let run = app.cli(&["--token", "not-a-jwt", "stock"]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("401 Unauthorized: "), "{}", run.stderr);
    assert!(run.stderr.contains("STOCKROOM_TOKEN"), "says what to check: {}", run.stderr);

    // Signed with another secret (the env token is used the same way).
    let run = app.cli_env(&["stock"], &[("STOCKROOM_JWT_SECRET", "someone-elses-secret")]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    let other = app.cli_env(&["token"], &[("STOCKROOM_JWT_SECRET", "someone-elses-secret")]).await;
    let run = app.cli_env(&["stock"], &[("STOCKROOM_TOKEN", other.stdout.trim())]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_needs_a_directory() {
    let app = stack().await;
    let missing = app.dir.path().join("nowhere");
    let run = app.cli(&["upload", missing.to_str().expect("utf-8")]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("no such directory"), "{}", run.stderr);

    let file = app.dir.path().join("plain.txt");
    std::fs::write(&file, "x").expect("write");
    let run = app.cli(&["upload", file.to_str().expect("utf-8")]).await;
    assert_eq!(run.code, 1);
    one_line_error(&run.stderr);
    assert!(run.stderr.contains("not a directory"), "{}", run.stderr);
    assert_eq!(app.stock().await["unused"], 0, "nothing changed");
    app.stop().await;
}
