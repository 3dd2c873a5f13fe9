//! Decorators that count durable commits on the embedded backend: every
//! successful record write (put, update, delete, transact) and every queue
//! send, receive and delete is one redb write transaction, committed with
//! fsync. Failed transactions are counted apart, by why they failed (a
//! failed transaction is rolled back, so it is no commit), and the failed
//! conditions also by the kind of item whose write failed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use shared::ports::records::{PK, SK};
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
    /// Failed conditions (of transactions and of single writes) by the kind
    /// of item whose write failed, see [`kind`].
    pub refused: Mutex<BTreeMap<Refused, u64>>,
    /// Item writes (puts, updates, deletes) that committed, by the kind of
    /// item written, see [`kind`]; a transaction counts each of its writes.
    pub written: Mutex<BTreeMap<String, u64>>,
}

/// One failed condition: the kind of item whose write failed, and whether
/// it was in a transaction or a single conditional write.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Refused {
    pub kind: String,
    pub single: bool,
}

/// A copy of the counts at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub record_commits: u64,
    pub queue_commits: u64,
    pub reads: u64,
    pub stock_races: u64,
    pub other_conditions: u64,
    pub conflicts: u64,
    pub refused: BTreeMap<Refused, u64>,
    pub written: BTreeMap<String, u64>,
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
            refused: minus(&self.refused, &before.refused),
            written: minus(&self.written, &before.written),
        }
    }

    /// Item writes per order by kind, most first: "ORDER/* 3.00, ...".
    pub fn written_per(&self, orders: usize) -> String {
        let mut all: Vec<(&String, &u64)> = self.written.iter().collect();
        all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let total: u64 = all.iter().map(|(_, n)| **n).sum();
        let per = |n: u64| n as f64 / orders.max(1) as f64;
        let shown: Vec<String> = all.iter().map(|(k, n)| format!("{k} {:.2}", per(**n))).collect();
        format!("{:.1} item writes per order: {}", per(total), shown.join(", "))
    }

    /// The failed conditions by kind of item, most first: "ORDER/INTENT 812
    /// (tx), ...".
    pub fn refused_by_kind(&self) -> String {
        let mut all: Vec<(&Refused, &u64)> = self.refused.iter().collect();
        all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = all
            .iter()
            .map(|(r, n)| format!("{} {n} ({})", r.kind, if r.single { "single write" } else { "tx" }))
            .collect();
        if shown.is_empty() { "none".into() } else { shown.join(", ") }
    }
}

/// Per-key counts now less those `before`, keeping the keys that grew.
fn minus<K: Ord + Clone>(now: &BTreeMap<K, u64>, before: &BTreeMap<K, u64>) -> BTreeMap<K, u64> {
    now.iter().map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0))).filter(|(_, n)| *n > 0).collect()
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
        )?;
        write!(f, "; failed conditions by the write's item: {}", self.refused_by_kind())
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
            refused: self.refused.lock().map(|m| m.clone()).unwrap_or_default(),
            written: self.written.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }

    fn refuse(&self, kind: String, single: bool) {
        if let Ok(mut m) = self.refused.lock() {
            *m.entry(Refused { kind, single }).or_default() += 1;
        }
    }

    fn wrote<'k>(&self, keys: impl IntoIterator<Item = &'k Key>) {
        if let Ok(mut m) = self.written.lock() {
            for key in keys {
                *m.entry(kind(key)).or_default() += 1;
            }
        }
    }

    /// Counts a single conditional write: a commit, or a failed condition.
    fn count_single<T>(&self, key: &Key, r: Result<T, RecordError>) -> Result<T, RecordError> {
        match &r {
            Ok(_) => {
                self.record_commits.fetch_add(1, Ordering::Relaxed);
                self.wrote([key]);
            }
            Err(RecordError::ConditionFailed { .. }) => self.refuse(kind(key), true),
            Err(_) => {}
        }
        r
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
        let key = item_key(&item);
        self.tally.count_single(&key, self.inner.put(item, cond).await)
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        self.tally.count_single(key, self.inner.update(key, changes, cond).await)
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        self.tally.count_single(key, self.inner.delete(key, cond).await)
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        let keys: Vec<Key> = writes.iter().map(write_key).collect();
        let checks: Vec<bool> = writes.iter().map(|w| matches!(w, Write::Check { .. })).collect();
        let r = self.inner.transact(writes).await;
        let t = &self.tally;
        let which = match &r {
            Ok(()) => {
                t.wrote(keys.iter().zip(&checks).filter(|(_, check)| !**check).map(|(k, _)| k));
                &t.record_commits
            }
            Err(RecordError::ConditionFailed { index, .. }) => {
                let key = keys.get(*index).cloned().unwrap_or_else(|| Key::new("?", "?"));
                let book = on_stock_book(&key);
                t.refuse(kind(&key), false);
                if book { &t.stock_races } else { &t.other_conditions }
            }
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
fn on_stock_book(key: &Key) -> bool {
    key.pk == keys::LEDGER_PK || key.pk == keys::stock_counts().pk
}

fn item_key(item: &Item) -> Key {
    let part = |name: &str| item.get(name).and_then(|v| v.as_str()).unwrap_or("?").to_string();
    Key::new(part(PK), part(SK))
}

fn write_key(w: &Write) -> Key {
    match w {
        Write::Put { item, .. } => item_key(item),
        Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => key.clone(),
    }
}

/// The kind of item a key names, without its ids: the partition key up to
/// its first '#', then the sort key up to its first '#' when that is a word
/// (ORDER#... INTENT is "ORDER/INTENT"; an outbox item, sorted by its id,
/// is "OUTBOX/*").
pub fn kind(key: &Key) -> String {
    let head = |s: &str| s.split('#').next().unwrap_or_default().to_string();
    let sk = head(&key.sk);
    let word = !sk.is_empty() && sk.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    format!("{}/{}", head(&key.pk), if word { sk.as_str() } else { "*" })
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
    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        self.tally.count(&self.tally.queue_commits, self.inner.delete_many(receipts).await)
    }
    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::adapters::embedded::open_embedded;
    use shared::services::items::to_item;

    #[tokio::test]
    async fn counts_committed_writes_by_kind_and_not_checks_or_failures() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let e = open_embedded(dir.path(), shared::app::clock())?;
        let tally = Arc::new(Tally::default());
        let records = TallyRecords { inner: Arc::new(e.records), tally: tally.clone() };
        let order = Key::new("ORDER#01A", "ORDER");
        let item = |key: &Key| to_item(key, &json!({"n": 1}), None, None);
        records.put(item(&order)?, None).await?;
        let before = tally.snapshot();
        let writes = vec![
            Write::Put { item: item(&Key::new("ORDER#01A", "HOLD"))?, cond: None },
            Write::Put { item: item(&Key::new("LIMIT#email#a", "LIMIT"))?, cond: None },
            Write::Check { key: order.clone(), cond: Cond::Exists },
        ];
        records.transact(writes).await?;
        // A refused write counts nothing.
        let refused = records.put(item(&order)?, Some(Cond::NotExists)).await;
        assert!(matches!(refused, Err(RecordError::ConditionFailed { .. })));

        let spent = tally.snapshot().since(&before);
        let got: Vec<(&str, u64)> = spent.written.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(got, [("LIMIT/LIMIT", 1), ("ORDER/HOLD", 1)]);
        assert_eq!(spent.written_per(2), "1.0 item writes per order: LIMIT/LIMIT 0.50, ORDER/HOLD 0.50");
        Ok(())
    }
}
