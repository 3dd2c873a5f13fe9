//! What fulfilment costs: DynamoDB requests per order, for every plan size
//! (issue 7: at most 6; each get, query, write and transaction is one).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::*;
use crate::adapters::embedded::{EmbeddedRecords, open_embedded};
use crate::ports::clock::OffsetClock;
use crate::ports::{Change, Cond, Item, Key, Page, Query, RecordError, Records, Write};
use crate::services::credits;
use crate::testkit::stack::{BUYER, local_ctx, paid_order};

struct Counted {
    inner: EmbeddedRecords,
    requests: AtomicU64,
}

impl Counted {
    fn bump(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
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

/// A paid order of `plan` on a fresh stack with just enough stock, and the
/// DynamoDB requests its fulfilment message costs.
async fn fulfilment_requests(plan: &str) -> (u64, FulfilOutcome, bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let records = Arc::new(Counted { inner: b.records, requests: AtomicU64::new(0) });
    let ctx = local_ctx(records.clone(), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock);
    paid_order(&ctx, plan).await;
    let msg = ctx.fulfil_queue.receive(1, std::time::Duration::from_secs(30)).await.unwrap().remove(0);
    records.requests.store(0, Ordering::Relaxed);
    let outcome = handle(&ctx, &msg.body).await.unwrap();
    let used = records.requests.load(Ordering::Relaxed);
    let earned = credits::view(&ctx, BUYER).await.unwrap().entries.len() == 1;
    (used, outcome, earned)
}

#[tokio::test]
async fn fulfilment_costs_at_most_five_dynamodb_requests_for_every_plan_size() {
    for plan in ["bronze", "silver", "gold", "diamond", "pro", "elite"] {
        let (used, outcome, earned) = fulfilment_requests(plan).await;
        assert!(matches!(outcome, FulfilOutcome::Fulfilled { .. }), "{plan}: {outcome:?}");
        assert!(earned, "{plan}: the credit is earned in the same requests");
        assert!(used <= 5, "{plan}: {used} DynamoDB requests");
    }
}
