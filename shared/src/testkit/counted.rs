//! A record store that counts its requests: each get, query, write and
//! transaction is one DynamoDB request, so tests can bound what a use case
//! costs.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::adapters::embedded::EmbeddedRecords;
use crate::ports::{Change, Cond, Item, Key, Page, Query, RecordError, Records, Write};

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
