//! Port decorators that count requests, so a run shows what it would cost
//! on DynamoDB and S3 (where each call is a billed request).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use shared::ports::{
    Change, Cond, FileError, FileMeta, FilePage, Files, Item, Key, Page, Query, RecordError, Records, Write,
};

#[derive(Debug, Default)]
pub struct Counts {
    pub list: AtomicU64,
    pub head: AtomicU64,
    pub file_writes: AtomicU64,
    pub get: AtomicU64,
    pub query: AtomicU64,
    pub record_writes: AtomicU64,
    pub transact_items: AtomicU64,
}

impl Counts {
    pub fn reset(&self) {
        for c in self.all() {
            c.1.store(0, Ordering::Relaxed);
        }
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

pub struct CountingRecords<R> {
    pub inner: R,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl<R: Records> Records for CountingRecords<R> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        bump(&self.counts.get, 1);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        self.inner.put(item, cond).await
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        bump(&self.counts.record_writes, 1);
        self.inner.update(key, changes, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        self.inner.delete(key, cond).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        bump(&self.counts.record_writes, 1);
        bump(&self.counts.transact_items, writes.len() as u64);
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        bump(&self.counts.query, 1);
        self.inner.query(query).await
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
