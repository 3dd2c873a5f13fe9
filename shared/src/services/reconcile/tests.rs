use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use super::settle::{Decision, Place, decide};
use super::*;
use crate::adapters::embedded::{DirFiles, open_embedded};
use crate::domain::Timestamp;
use crate::ports::clock::OffsetClock;
use crate::ports::{FileError, FileMeta, FilePage, Files};
use crate::services::jobs::StepReport;
use crate::services::model::FileRecord;
use crate::testkit::stack::embedded_ctx;

fn rec(location: Location, user: Option<&str>) -> FileRecord {
    FileRecord {
        name: "f".into(),
        location,
        user_id: user.map(str::to_string),
        order_id: None,
        updated_at: Timestamp(1),
        ban_on_return: false,
    }
}

#[test]
fn a_record_whose_copy_is_there_keeps_it_and_drops_the_rest() {
    let r = rec(Location::Assigned, Some("u1"));
    assert_eq!(decide(&r, &[Place::assigned("u1")]), Decision::Keep);
    assert_eq!(
        decide(&r, &[Place::at(Location::Unused), Place::assigned("u1")]),
        Decision::DropCopies(vec![Place::at(Location::Unused)])
    );
}

#[test]
fn a_record_follows_storage_preferring_a_buyers_copy() {
    let r = rec(Location::Unused, None);
    assert_eq!(
        decide(&r, &[Place::at(Location::Banned)]),
        Decision::Follow { to: Place::at(Location::Banned), drop: vec![] }
    );
    assert_eq!(
        decide(&r, &[Place::at(Location::Frozen), Place::assigned("u2")]),
        Decision::Follow { to: Place::assigned("u2"), drop: vec![Place::at(Location::Frozen)] }
    );
    // A ghost: assigned to u1, the file is with u2.
    let g = rec(Location::Assigned, Some("u1"));
    assert_eq!(decide(&g, &[Place::assigned("u2")]), Decision::Follow { to: Place::assigned("u2"), drop: vec![] });
}

#[test]
fn a_record_with_no_copy_anywhere_is_lost() {
    assert_eq!(decide(&rec(Location::Assigned, Some("u1")), &[]), Decision::Lost);
    assert_eq!(decide(&rec(Location::Unused, None), &[]), Decision::Lost);
}

#[test]
fn assigned_keys_name_a_user_and_a_file() {
    assert_eq!(Place::assigned("u1").key("a"), "assigned/u1/a");
    assert_eq!(Place::at(Location::Frozen).key("a"), "frozen/a");
}

#[test]
fn the_report_counts_repairs_not_findings() {
    let mut r = ReconcileReport { scanned: 9, orphans: 1, in_flight: 2, counters_checked: true, ..Default::default() };
    assert_eq!(r.repairs(), 0);
    r.counters_fixed = true;
    r.duplicates = 2;
    assert_eq!(r.repairs(), 3);
}

/// Bad names stay where they are; a recordless file in two prefixes is
/// adopted once (unused/ is scanned first) and its other copy removed.
#[tokio::test]
async fn bad_names_are_left_and_a_recordless_twin_is_adopted_once() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    for key in ["unused/a.session", "banned/a.session", "unused/bad name", "unused/sub/b.session"] {
        ctx.files.put(key, b"x".to_vec(), true).await.unwrap();
    }
    let report = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!((report.adopted, report.duplicates, report.rejected), (1, 1, 2), "{report:?}");
    assert!(ctx.files.head("banned/a.session").await.unwrap().is_none());
    let counts = stock::read_counts(&ctx).await.unwrap().counts;
    assert_eq!((counts.unused, counts.banned), (1, 0));
    assert!(report.counters_checked && !report.counters_fixed, "{report:?}");
    let again = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(again.repairs(), 0, "{again:?}");
    assert_eq!(again.rejected, 2);
}

/// A file marked lost that a stale mover then put under a buyer, with no
/// record and no subscription, goes back to stock; an orphan reconcile never
/// lost (no tombstone) is only reported.
#[tokio::test]
async fn a_lost_file_found_under_assigned_goes_back_to_stock() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    ctx.files.put("unused/a.session", b"x".to_vec(), true).await.unwrap();
    assert_eq!(run(&ctx, "test").await.all_ok().unwrap().adopted, 1);
    ctx.files.delete("unused/a.session").await.unwrap();
    assert_eq!(run(&ctx, "test").await.all_ok().unwrap().lost, 1);

    ctx.files.put("assigned/u1/a.session", b"x".to_vec(), true).await.unwrap();
    let report = run(&ctx, "test").await.all_ok().unwrap();
    assert!(ctx.files.head("assigned/u1/a.session").await.unwrap().is_none());
    assert!(ctx.files.head("unused/a.session").await.unwrap().is_some());
    assert!(report.orphan_keys.is_empty() && report.invariants.ok(), "{report:?}");
    let counts = stock::read_counts(&ctx).await.unwrap().counts;
    assert_eq!((counts.unused, counts.assigned), (1, 0));
    assert_eq!(run(&ctx, "test").await.all_ok().unwrap().repaired, 0);

    ctx.files.put("assigned/u2/b.session", b"x".to_vec(), true).await.unwrap();
    let report = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(report.orphan_keys, ["assigned/u2/b.session"], "{report:?}");
    assert!(ctx.files.head("assigned/u2/b.session").await.unwrap().is_some());
}

#[tokio::test]
async fn a_failed_repair_still_runs_the_independent_steps() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    ctx.faults.arm("reconcile.repair", 1);
    let report = run(&ctx, "test").await;
    assert_eq!(report.failed_steps(), ["repair"], "{report:?}");
    let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["repair", "requeue_paid", "order_index", "ledger_index", "low_stock_alerts", "invariants"]);
    assert!(report.all_ok().is_err());
    let report = run(&ctx, "test").await;
    assert!(report.failed_steps().is_empty(), "{report:?}");
}

/// Junk dropped in unused/ (a README, a journal whose session is not there)
/// is never adopted: it is reported and left where it is. A session's
/// journal beside it is neither stock nor junk.
#[tokio::test]
async fn files_that_do_not_match_the_stock_pattern_are_rejected_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    for key in ["unused/README.txt", "unused/a.session", "unused/a.session-journal", "unused/x.session-journal"] {
        ctx.files.put(key, b"x".to_vec(), true).await.unwrap();
    }
    let report = run(&ctx, "test").await;
    assert_eq!((report.adopted, report.rejected), (1, 2), "{report:?}");
    assert_eq!(report.rejected_keys, ["unused/README.txt", "unused/x.session-journal"]);
    assert!(report.invariants.ok(), "{report:?}");
    assert_eq!(stock::read_counts(&ctx).await.unwrap().counts.unused, 1);
    for key in ["unused/README.txt", "unused/x.session-journal", "unused/a.session-journal"] {
        assert!(ctx.files.head(key).await.unwrap().is_some(), "{key} left where it is");
    }
    let again = run(&ctx, "test").await;
    assert_eq!((again.repairs(), again.rejected), (0, 2), "{again:?}");
    assert!(again.counters_checked && again.invariants.ok(), "{again:?}");
}

/// Junk adopted before the stock pattern existed (here: a pattern that took
/// everything) stops being stock at the next reconcile: its record goes in
/// one reconcile entry, the file stays, and it can never be claimed.
#[tokio::test]
async fn junk_adopted_under_an_older_pattern_is_retired() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = embedded_ctx(dir.path());
    ctx.settings.stock_pattern = crate::domain::StockPattern::parse("*").unwrap();
    for key in ["unused/README.txt", "unused/a.session"] {
        ctx.files.put(key, b"x".to_vec(), true).await.unwrap();
    }
    assert_eq!(run(&ctx, "test").await.adopted, 2);
    ctx.settings.stock_pattern = crate::domain::StockPattern::default();
    let report = run(&ctx, "test").await;
    assert_eq!((report.repaired, report.rejected_keys.as_slice()), (1, &["unused/README.txt".to_string()][..]));
    assert!(report.invariants.ok(), "{report:?}");
    assert_eq!(stock::read_counts(&ctx).await.unwrap().counts.unused, 1);
    assert!(ctx.records.get(&crate::services::keys::file("README.txt")).await.unwrap().is_none());
    assert!(ctx.files.head("unused/README.txt").await.unwrap().is_some());
    assert_eq!(run(&ctx, "test").await.repairs(), 0);
}

/// Counts listing pages, to see who walked the listings.
struct Lists {
    inner: DirFiles,
    pages: AtomicU64,
}

#[async_trait::async_trait]
impl Files for Lists {
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        self.pages.fetch_add(1, SeqCst);
        self.inner.list(prefix, after, limit).await
    }
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        self.inner.move_file(from, to).await
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        self.inner.put(key, bytes, if_absent).await
    }
    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.inner.delete(key).await
    }
}

/// A run that changed nothing hands its walk to the invariant checker, so
/// the listings are read once, and the checker finds what it would find
/// alone (here an orphan nobody owns). A run that repaired something does
/// not: the checker walks again and judges the repaired state.
#[tokio::test]
async fn a_run_that_changed_nothing_lends_the_checker_its_walk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Lists { inner: b.files, pages: AtomicU64::new(0) });
    let queues = (Arc::new(b.fulfil) as _, Arc::new(b.events) as _);
    let ctx = crate::testkit::stack::local_ctx(Arc::new(b.records), files.clone(), queues, clock);
    let order = crate::testkit::stack::paid_order(&ctx, "silver").await;
    crate::services::fulfil::fulfil(&ctx, &order).await.unwrap();
    ctx.files.put("assigned/u2/b.session", b"x".to_vec(), true).await.unwrap();
    ctx.files.put("unused/new.session", b"x".to_vec(), true).await.unwrap();
    let first = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!((first.adopted, first.orphans), (1, 1), "{first:?}");

    let pages = || files.pages.swap(0, SeqCst);
    pages();
    let alone = crate::services::invariants::check(&ctx).await.unwrap();
    let checker_pages = pages();
    let steady = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(steady.repairs(), 0, "{steady:?}");
    assert_eq!(pages(), checker_pages, "the listings are walked once");
    let shared = &steady.invariants;
    assert!(shared.settled && !shared.ok(), "{shared:?}");
    assert_eq!(shared.violations, alone.violations);
    assert_eq!((shared.files_listed, shared.file_records), (alone.files_listed, alone.file_records));

    // A copy by hand: reconcile deletes it, with no commit to move the
    // counters' version, so only its own word keeps the checker from
    // judging the copy it saw.
    ctx.files.put("banned/new.session", b"x".to_vec(), true).await.unwrap();
    let repaired = run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!((repaired.duplicates, repaired.repairs()), (1, 1), "{repaired:?}");
    assert_eq!(pages(), 2 * checker_pages, "a run that repaired is walked again");
    assert_eq!(repaired.invariants.violations, alone.violations, "only the orphan is left");
}
