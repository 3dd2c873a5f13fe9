//! `stockroom upload DIR`: files land in unused/, reconcile adopts them, a
//! second run skips them all, and nothing in stock is ever overwritten.

use crate::helpers::stack;

fn session_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_then_adopts_then_skips_everything() {
    let app = stack().await;
    let src = session_dir(&[
        ("acct-1.session", "one"),
        ("acct-2.session", "two"),
        ("acct-3.session", "three"),
        // The same account under another name: one upload only.
        ("acct-3-copy.session", "three"),
        (".hidden", "not a stock name"),
        // Not stock: never uploaded. A session's journal goes up with it.
        ("README.txt", "notes"),
        ("acct-1.session-journal", "journal"),
    ]);
    std::fs::create_dir(src.path().join("subdir")).expect("subdir");
    let dir = src.path().to_str().expect("utf-8");

    let run = app.cli(&["upload", dir]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "uploaded 3, already in stock 0, same content as another file 1, conflicts 0, not stock 2, journals 1"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("reconcile adopted 3 new files"), "{}", run.stdout);
    assert!(run.stderr.contains("skipped acct-3.session: same content as acct-3-copy.session"), "{}", run.stderr);
    assert!(run.stderr.contains("skipped README.txt: not stock"), "{}", run.stderr);
    assert_eq!(
        app.files_in("unused"),
        ["acct-1.session", "acct-1.session-journal", "acct-2.session", "acct-3-copy.session"]
    );
    assert_eq!(app.stock().await["unused"], 3);

    let again = app.cli(&["upload", dir]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains(
            "uploaded 0, already in stock 3, same content as another file 1, conflicts 0, not stock 2, journals 0"
        ),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("reconcile adopted 0 new files"), "{}", again.stdout);
    assert_eq!(app.stock().await["unused"], 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn names_in_any_prefix_count_and_conflicts_are_not_overwritten() {
    let app = stack().await;
    app.add_stock(&["kept.session"]).await;
    let banned = app.dir.path().join("files/banned");
    std::fs::create_dir_all(&banned).expect("mkdir");
    std::fs::write(banned.join("gone.session"), "banned one").expect("write");

    let src = session_dir(&[
        ("gone.session", "banned one"),
        ("kept.session", "a different, longer body"),
        ("fresh.session", "fresh"),
    ]);
    let run = app.cli(&["upload", src.path().to_str().expect("utf-8")]).await;
    assert_eq!(run.code, 1, "a conflict fails the run: {}", run.stdout);
    assert!(
        run.stdout.contains("uploaded 1, already in stock 1, same content as another file 0, conflicts 1"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("conflict kept.session: unused/kept.session"), "{}", run.stderr);
    assert!(run.stderr.lines().last().is_some_and(|l| l.starts_with("error: 1 files not uploaded")), "{}", run.stderr);
    assert_eq!(app.files_in("unused"), ["fresh.session", "kept.session"], "banned file not uploaded again");
    let kept = std::fs::read_to_string(app.dir.path().join("files/unused/kept.session")).expect("read");
    assert_eq!(kept, "session kept.session", "stock file not overwritten");
    assert!(run.stdout.contains("reconcile adopted 1 new files"), "{}", run.stdout);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_stack_the_upload_stays_and_says_how_to_adopt() {
    let app = stack().await;
    let url = app.url.clone();
    let kept = app.stop().await;
    let data = kept.path().to_path_buf();
    let src = session_dir(&[("late.session", "late")]);
    let dir = src.path().to_str().expect("utf-8");

    let run = crate::helpers::cli_at(&url, &data, &["upload", dir], &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot reach") && run.stderr.contains("adopted when the stack starts"),
        "{}",
        run.stderr
    );
    assert!(data.join("files/unused/late.session").is_file());

    let run = crate::helpers::cli_at(&url, &data, &["upload", "--no-reconcile", dir], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("uploaded 0, already in stock 1"), "{}", run.stdout);
}
