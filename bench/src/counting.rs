//! Port decorators that count requests, so a run shows what it would cost
//! on DynamoDB, S3 and SQS (where each call is a billed request).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shared::adapters::embedded::{EmbeddedRecords, open_embedded};
use shared::ports::clock::OffsetClock;
use shared::ports::{
    Change, Cond, FileError, FileMeta, FilePage, Files, Item, Key, Message, Page, Query, Queue, QueueError,
    RecordError, Records, Write,
};
use shared::services::Ctx;
use shared::testkit::stack::local_ctx;

/// The embedded backend in `dir`, with a context whose record and file
/// requests are counted, and the records uncounted for setting up fixtures.
pub struct Counted {
    pub ctx: Ctx,
    pub counts: Arc<Counts>,
    pub raw: EmbeddedRecords,
    pub clock: Arc<OffsetClock>,
}

pub fn counted_embedded(dir: &std::path::Path) -> anyhow::Result<Counted> {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone())?;
    let counts = Arc::new(Counts::default());
    let ctx = local_ctx(
        Arc::new(CountingRecords { inner: b.records.clone(), counts: counts.clone() }),
        Arc::new(CountingFiles { inner: b.files, counts: counts.clone() }),
        (Arc::new(b.fulfil), Arc::new(b.events)),
        clock.clone(),
    );
    Ok(Counted { ctx, counts, raw: b.records, clock })
}

#[derive(Debug, Default)]
pub struct Counts {
    pub list: AtomicU64,
    pub head: AtomicU64,
    pub file_writes: AtomicU64,
    pub get: AtomicU64,
    pub query: AtomicU64,
    pub record_writes: AtomicU64,
    pub transact_items: AtomicU64,
    /// Moves, also in `file_writes`: on S3 each is a copy and a delete.
    pub moves: AtomicU64,
    /// Queue sends, receives and deletes.
    pub queue: AtomicU64,
    /// Items gets and queries returned (what DynamoDB bills reads by).
    pub items: AtomicU64,
}

impl Counts {
    pub fn reset(&self) {
        for c in self.all() {
            c.1.store(0, Ordering::Relaxed);
        }
        self.moves.store(0, Ordering::Relaxed);
        self.queue.store(0, Ordering::Relaxed);
        self.items.store(0, Ordering::Relaxed);
    }

    /// DynamoDB requests: each get, query, write and transaction is one.
    pub fn dynamodb(&self) -> u64 {
        [&self.get, &self.query, &self.record_writes].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// S3 requests: each list, head, put and delete is one, a move two.
    pub fn s3(&self) -> u64 {
        [&self.list, &self.head, &self.file_writes, &self.moves].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    pub fn sqs(&self) -> u64 {
        self.queue.load(Ordering::Relaxed)
    }

    fn all(&self) -> [(&'static str, &AtomicU64); 7] {
        [
            ("files.list", &self.list),
            ("files.head", &self.head),
            ("files.put/move/delete", &self.file_writes),
            ("records.get", &self.get),
            ("records.query", &self.query),
            ("records.writes", &self.record_writes),
            ("(items in transactions)", &self.transact_items),
        ]
    }

    pub fn summary(&self) -> String {
        self.all()
            .iter()
            .map(|(name, c)| format!("{name} {}", c.load(Ordering::Relaxed)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// With BENCH_TRACE set, each Records request is printed (what a step reads and writes).
fn trace(what: impl FnOnce() -> String) {
    if std::env::var_os("BENCH_TRACE").is_some() {
        eprintln!("  {}", what());
    }
}

fn write_key(w: &Write) -> String {
    match w {
        Write::Put { item, .. } => Key::of(item).map(|k| format!("put {}|{}", k.pk, k.sk)).unwrap_or_default(),
        Write::Update { key, .. } => format!("update {}|{}", key.pk, key.sk),
        Write::Delete { key, .. } => format!("delete {}|{}", key.pk, key.sk),
        Write::Check { key, .. } => format!("check {}|{}", key.pk, key.sk),
    }
}

pub struct CountingRecords<R> {
    pub inner: R,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl<R: Records> Records for CountingRecords<R> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        bump(&self.counts.get, 1);
        trace(|| format!("get {}|{}", key.pk, key.sk));
        let got = self.inner.get(key).await?;
        bump(&self.counts.items, u64::from(got.is_some()));
        Ok(got)
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        trace(|| Key::of(&item).map(|k| format!("put {}|{}", k.pk, k.sk)).unwrap_or_default());
        self.inner.put(item, cond).await
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        bump(&self.counts.record_writes, 1);
        trace(|| format!("update {}|{}", key.pk, key.sk));
        self.inner.update(key, changes, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        trace(|| format!("delete {}|{}", key.pk, key.sk));
        self.inner.delete(key, cond).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        bump(&self.counts.transact_items, writes.len() as u64);
        trace(|| format!("transact [{}]", writes.iter().map(write_key).collect::<Vec<_>>().join(", ")));
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        bump(&self.counts.query, 1);
        trace(|| format!("query {:?} {} {:?} limit {}", query.index, query.pk, query.sk, query.limit));
        let page = self.inner.query(query).await?;
        bump(&self.counts.items, page.items.len() as u64);
        Ok(page)
    }
}

pub struct CountingFiles<F> {
    pub inner: F,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl<F: Files> Files for CountingFiles<F> {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        bump(&self.counts.list, 1);
        self.inner.list(prefix, start_after, limit).await
    }
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        bump(&self.counts.file_writes, 1);
        bump(&self.counts.moves, 1);
        self.inner.move_file(from, to).await
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        bump(&self.counts.file_writes, 1);
        self.inner.put(key, bytes, if_absent).await
    }
    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        bump(&self.counts.head, 1);
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        bump(&self.counts.file_writes, 1);
        self.inner.delete(key).await
    }
}

pub struct CountingQueue<Q> {
    pub inner: Q,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl<Q: Queue> Queue for CountingQueue<Q> {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        bump(&self.counts.queue, 1);
        self.inner.send(body).await
    }
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        bump(&self.counts.queue, 1);
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        bump(&self.counts.queue, 1);
        self.inner.delete(receipt).await
    }
    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        // One DeleteMessageBatch per ten, as the SQS adapter sends them.
        bump(&self.counts.queue, receipts.len().div_ceil(10) as u64);
        self.inner.delete_many(receipts).await
    }
    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        bump(&self.counts.queue, 1);
        self.inner.dead_letter_count().await
    }
}
