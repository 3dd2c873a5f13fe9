//! Decorators that count durable commits on the embedded backend: every
//! successful record write (put, update, delete, transact) and every queue
//! send, receive and delete is one redb write transaction, committed with
//! fsync. Failed transactions are counted apart, by why they failed (a
//! failed transaction is rolled back, so it is no commit).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shared::ports::records::PK;
use shared::ports::{Change, Cond, Item, Key, Message, Page, Query, Queue, QueueError, RecordError, Records, Write};
use shared::services::keys;

#[derive(Debug, Default)]
pub struct Tally {
    pub record_commits: AtomicU64,
    pub queue_commits: AtomicU64,
    pub reads: AtomicU64,
    /// Transactions that lost the race for the stock book: the counters'
    /// version lock or a ledger entry of the same version failed.
    pub stock_races: AtomicU64,
    pub other_conditions: AtomicU64,
    pub conflicts: AtomicU64,
}

/// A copy of the counts at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub record_commits: u64,
    pub queue_commits: u64,
    pub reads: u64,
    pub stock_races: u64,
    pub other_conditions: u64,
    pub conflicts: u64,
}

impl Snapshot {
    pub fn commits(&self) -> u64 {
        self.record_commits + self.queue_commits
    }

    pub fn since(&self, before: &Snapshot) -> Snapshot {
        Snapshot {
            record_commits: self.record_commits - before.record_commits,
            queue_commits: self.queue_commits - before.queue_commits,
            reads: self.reads - before.reads,
            stock_races: self.stock_races - before.stock_races,
            other_conditions: self.other_conditions - before.other_conditions,
            conflicts: self.conflicts - before.conflicts,
        }
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} durable commits ({} record, {} queue), {} reads; failed transactions: {} on the stock book (counters' version or ledger entry), \
             {} other conditions, {} conflicts",
            self.commits(),
            self.record_commits,
            self.queue_commits,
            self.reads,
            self.stock_races,
            self.other_conditions,
            self.conflicts
        )
    }
}

impl Tally {
    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            record_commits: get(&self.record_commits),
            queue_commits: get(&self.queue_commits),
            reads: get(&self.reads),
            stock_races: get(&self.stock_races),
            other_conditions: get(&self.other_conditions),
            conflicts: get(&self.conflicts),
        }
    }

    fn count<T, E>(&self, on_ok: &AtomicU64, r: Result<T, E>) -> Result<T, E> {
        if r.is_ok() {
            on_ok.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

pub struct TallyRecords {
    pub inner: Arc<dyn Records>,
    pub tally: Arc<Tally>,
}

#[async_trait]
impl Records for TallyRecords {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        self.tally.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        self.tally.count(&self.tally.record_commits, self.inner.put(item, cond).await)
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        self.tally.count(&self.tally.record_commits, self.inner.update(key, changes, cond).await)
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        self.tally.count(&self.tally.record_commits, self.inner.delete(key, cond).await)
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        let book: Vec<bool> = writes.iter().map(on_stock_book).collect();
        let r = self.inner.transact(writes).await;
        let t = &self.tally;
        let which = match &r {
            Ok(()) => &t.record_commits,
            Err(RecordError::ConditionFailed { index, .. }) if book.get(*index) == Some(&true) => &t.stock_races,
            Err(RecordError::ConditionFailed { .. }) => &t.other_conditions,
            Err(RecordError::Conflict) => &t.conflicts,
            Err(_) => return r,
        };
        which.fetch_add(1, Ordering::Relaxed);
        r
    }
    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        self.tally.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.query(query).await
    }
}

/// Whether a write is to the stock counters or the stock ledger.
fn on_stock_book(w: &Write) -> bool {
    let pk = match w {
        Write::Put { item, .. } => item.get(PK).and_then(|v| v.as_str()).map(str::to_string),
        Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => Some(key.pk.clone()),
    };
    matches!(pk.as_deref(), Some(p) if p == keys::LEDGER_PK || p == keys::stock_counts().pk)
}

pub struct TallyQueue {
    pub inner: Arc<dyn Queue>,
    pub tally: Arc<Tally>,
}

#[async_trait]
impl Queue for TallyQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        self.tally.count(&self.tally.queue_commits, self.inner.send(body).await)
    }
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        self.tally.count(&self.tally.queue_commits, self.inner.receive(max, visibility).await)
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.tally.count(&self.tally.queue_commits, self.inner.delete(receipt).await)
    }
    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }
}
