//! Grouped stock commits, tried where grouping could go wrong: the last
//! file wanted by many at once, two claims of one item, a refused or bad
//! member among good ones, and the ledger's one-version-per-commit order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::adapters::embedded::{EmbeddedRecords, open_embedded};
use crate::domain::LedgerKind;
use crate::ports::clock::OffsetClock;
use crate::ports::{Change, Cond, Item, Key, Page, Query, RecordError, Records, Write};
use crate::services::items::to_item;
use crate::services::stock::{StockEntry, delta, read_counts};
use crate::services::store::stock::entries;
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError, invariants};
use crate::testkit::stack::local_ctx;

/// Slow transactions, so commits pile up behind the one in flight; counts
/// them and those naming one item twice (DynamoDB refuses those), and fails
/// any that writes the poisoned key.
struct Slow {
    inner: EmbeddedRecords,
    transactions: AtomicU64,
    one_item_twice: AtomicU64,
}

fn key_of(w: &Write) -> Option<Key> {
    match w {
        Write::Put { item, .. } => Key::of(item),
        Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => Some(key.clone()),
    }
}

const POISON: &str = "POISON";

#[async_trait]
impl Records for Slow {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        self.inner.put(item, cond).await
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        self.inner.update(key, changes, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        self.inner.delete(key, cond).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        self.transactions.fetch_add(1, Ordering::SeqCst);
        let keys: std::collections::HashSet<Option<Key>> = writes.iter().map(key_of).collect();
        if keys.len() < writes.len() {
            self.one_item_twice.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let poisoned = writes.iter().any(|w| matches!(w, Write::Put { item, .. } if item["pk"] == POISON));
        if poisoned {
            return Err(RecordError::Invalid("poisoned".into()));
        }
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        self.inner.query(query).await
    }
}

fn slow_ctx(dir: &std::path::Path) -> (Arc<Ctx>, Arc<Slow>) {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).unwrap();
    let records =
        Arc::new(Slow { inner: b.records, transactions: AtomicU64::new(0), one_item_twice: AtomicU64::new(0) });
    let ctx = local_ctx(records.clone(), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock);
    (Arc::new(ctx), records)
}

fn entry(change: crate::domain::StockCounts, reference: &str) -> StockEntry {
    StockEntry {
        kind: LedgerKind::Restock,
        file: None,
        change,
        reason: "test".into(),
        reference: reference.into(),
        actor: "test".into(),
    }
}

fn put_new(pk: &str) -> Write {
    let item = to_item(&Key::new(pk, "X"), &json!({"v": 1}), None, None).unwrap();
    Write::Put { item, cond: Some(Cond::NotExists) }
}

/// Stock of `n` unused files (counters only).
async fn stocked(ctx: &Ctx, n: i64) {
    let mut tx: Tx<()> = Tx::new();
    tx.stock(entry(delta(n, 0, 0), "stock"));
    assert!(tx.commit(ctx).await.unwrap().is_done());
}

/// A hold of one file, as checkout makes it: refused when none is free.
async fn hold_one(ctx: Arc<Ctx>, i: usize) -> Result<Commit<()>, ServiceError> {
    let mut tx: Tx<()> = Tx::new();
    tx.push((), put_new(&format!("HOLD{i}"))).stock(entry(delta(0, 1, 0), &format!("o{i}")));
    tx.check(|c| {
        if c.available() < 1 {
            Err(ServiceError::InsufficientStock { available: c.available(), wanted: 1 })
        } else {
            Ok(())
        }
    });
    tx.commit(&ctx).await
}

/// Hold `i` committing (slowly), so the commits made next wait for the
/// same turn; its handle.
async fn turn_taken(ctx: &Arc<Ctx>, i: usize) -> tokio::task::JoinHandle<Result<Commit<()>, ServiceError>> {
    let first = tokio::spawn(hold_one(ctx.clone(), i));
    tokio::time::sleep(Duration::from_millis(5)).await;
    first
}

/// A record that exists already, so a `put_new` of it is refused.
async fn existing(ctx: &Ctx, pk: &str) {
    let mut tx: Tx<()> = Tx::new();
    tx.push((), put_new(pk));
    assert!(tx.commit(ctx).await.unwrap().is_done());
}

/// 40 buyers for 10 files at once: grouped commits hold exactly 10, each its
/// own version with its own ledger line, and the books balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_holds_at_once_share_commits_and_never_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = slow_ctx(dir.path());
    stocked(&ctx, 10).await;
    let before = records.transactions.load(Ordering::SeqCst);
    let tasks: Vec<_> = (0..40).map(|i| tokio::spawn(hold_one(ctx.clone(), i))).collect();
    let (mut held, mut short) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Commit::Done) => held += 1,
            Err(ServiceError::InsufficientStock { .. }) => short += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((held, short), (10, 30));
    let transactions = records.transactions.load(Ordering::SeqCst) - before;
    assert!(transactions < 10, "10 holds took {transactions} transactions: not grouped");
    let counts = read_counts(&ctx).await.unwrap();
    assert_eq!((counts.counts.unused, counts.counts.reserved, counts.version), (10, 10, 11));
    let ledger = entries(&ctx, None, 100).read_all().await.unwrap();
    let seqs: Vec<String> = ledger.iter().map(|e| e.seq.clone()).collect();
    let want: Vec<String> = (1..=11).map(|v| crate::services::store::stock::seq(v, 0)).collect();
    assert_eq!(seqs, want, "one version per commit, gap-free");
    let report = invariants::check_full(&ctx).await.unwrap();
    let ledger_broken = report.violations.iter().any(|v| v.invariant == invariants::Invariant::Ledger);
    assert!(!ledger_broken, "{report:?}");
}

/// Two commits that write one item are never in one transaction (both
/// conditions would be judged on the state before it): one wins, one is
/// refused, whatever the timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_commits_of_one_item_are_never_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = slow_ctx(dir.path());
    stocked(&ctx, 10).await;
    for round in 0..5 {
        let claim = |ctx: Arc<Ctx>| async move {
            let mut tx: Tx<&str> = Tx::new();
            tx.push("file", put_new(&format!("FILE{round}"))).stock(entry(delta(-1, 0, 1), "claim"));
            tx.commit(&ctx).await.unwrap()
        };
        // One in flight, so the two that follow wait for the same turn.
        let first = turn_taken(&ctx, 100 + round).await;
        let (a, b) = tokio::join!(claim(ctx.clone()), claim(ctx.clone()));
        assert!(first.await.unwrap().unwrap().is_done());
        let mut got = [a, b];
        got.sort_by_key(|c| c.is_done());
        assert_eq!(got, [Commit::Refused("file"), Commit::Done], "round {round}");
    }
    let counts = read_counts(&ctx).await.unwrap().counts;
    assert_eq!((counts.unused, counts.assigned, counts.reserved), (5, 5, 5));
    assert_eq!(records.one_item_twice.load(Ordering::SeqCst), 0, "a transaction named one item twice");
}

/// In one group: a member refused by its own condition is refused alone, and
/// a member whose write the store rejects fails alone; the others commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_bad_member_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = slow_ctx(dir.path());
    stocked(&ctx, 10).await;
    existing(&ctx, "TAKEN").await;

    let first = turn_taken(&ctx, 0).await;
    let write = |pk: &'static str| {
        let ctx = ctx.clone();
        async move {
            let mut tx: Tx<&str> = Tx::new();
            tx.push(pk, put_new(pk)).stock(entry(delta(0, 1, 0), pk));
            tx.commit(&ctx).await
        }
    };
    let before = records.transactions.load(Ordering::SeqCst);
    let (taken, poison, good, also) = tokio::join!(write("TAKEN"), write(POISON), write("GOOD"), write("ALSO"));
    assert!(first.await.unwrap().unwrap().is_done());
    assert_eq!(taken.unwrap(), Commit::Refused("TAKEN"));
    assert!(matches!(poison, Err(ServiceError::Internal(_))), "{poison:?}");
    assert!(good.unwrap().is_done() && also.unwrap().is_done());
    assert!(records.transactions.load(Ordering::SeqCst) - before >= 2);
    let counts = read_counts(&ctx).await.unwrap();
    assert_eq!((counts.counts.reserved, counts.version), (3, 4), "the first hold, GOOD and ALSO");
    for pk in ["GOOD", "ALSO"] {
        assert!(ctx.records.get(&Key::new(pk, "X")).await.unwrap().is_some());
    }
    assert!(ctx.records.get(&Key::new(POISON, "X")).await.unwrap().is_none());
}

/// The last free file: a member that takes it but is then refused by its
/// own write must not leave the one after it told "out of stock".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_failed_only_because_of_a_refused_member_goes_again() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _) = slow_ctx(dir.path());
    stocked(&ctx, 2).await;
    existing(&ctx, "HOLD1").await;
    // The first takes one of the two; then HOLD1 (refused: it exists) and
    // HOLD2 wait for the same turn, each wanting the last.
    let first = turn_taken(&ctx, 0).await;
    let refused = tokio::spawn(hold_one(ctx.clone(), 1));
    tokio::time::sleep(Duration::from_millis(2)).await;
    let second = hold_one(ctx.clone(), 2).await;
    assert!(first.await.unwrap().unwrap().is_done());
    // HOLD1 never commits, so HOLD2 gets the last file in any order; HOLD1
    // is refused by its write, or is short if HOLD2 went first.
    assert_eq!(second.unwrap(), Commit::Done);
    let refused = refused.await.unwrap();
    assert!(matches!(refused, Ok(Commit::Refused(())) | Err(ServiceError::InsufficientStock { .. })), "{refused:?}");
    assert_eq!(read_counts(&ctx).await.unwrap().counts.reserved, 2);
}

/// A caller that goes away while its commit waits for a turn (a dropped
/// request) leaves nothing behind: a later turn does not commit it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_caller_went_away_before_its_turn_is_never_made() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _) = slow_ctx(dir.path());
    stocked(&ctx, 10).await;
    let first = turn_taken(&ctx, 0).await;
    let gone = tokio::time::timeout(Duration::from_millis(2), hold_one(ctx.clone(), 1)).await;
    assert!(gone.is_err(), "it waited for the turn");
    assert!(first.await.unwrap().unwrap().is_done());
    assert!(hold_one(ctx.clone(), 2).await.unwrap().is_done());
    assert!(ctx.records.get(&Key::new("HOLD1", "X")).await.unwrap().is_none());
    assert_eq!(read_counts(&ctx).await.unwrap().counts.reserved, 2);
}
