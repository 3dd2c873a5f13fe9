//! A record store that counts its requests: each get, query, write and
//! transaction is one DynamoDB request, so tests can bound what a use case
//! costs.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::adapters::embedded::{EmbeddedRecords, open_embedded};
use crate::ports::clock::OffsetClock;
use crate::ports::{Change, Cond, Item, Key, Page, Query, RecordError, Records, Write};
use crate::services::Ctx;
use crate::testkit::stack::local_ctx;

pub struct Counted {
    inner: EmbeddedRecords,
    requests: AtomicU64,
}

impl Counted {
    pub fn new(inner: EmbeddedRecords) -> Self {
        Counted { inner, requests: AtomicU64::new(0) }
    }

    fn bump(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The requests so far, and zero again.
    pub fn take(&self) -> u64 {
        self.requests.swap(0, Ordering::Relaxed)
    }
}

/// The embedded stack in `dir`, its records counted.
pub fn counted_ctx(dir: &Path) -> (Ctx, Arc<Counted>) {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).expect("the embedded backend opens");
    let records = Arc::new(Counted::new(b.records));
    (local_ctx(records.clone(), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock), records)
}

#[async_trait]
impl Records for Counted {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        self.bump();
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        self.bump();
        self.inner.put(item, cond).await
    }
    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        self.bump();
        self.inner.update(key, changes, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        self.bump();
        self.inner.delete(key, cond).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        self.bump();
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        self.bump();
        self.inner.query(query).await
    }
}
