//! The dispatcher on the embedded backend, fed stream records built from the
//! outbox's own items as DynamoDB Streams delivers them (DynamoDB JSON).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;
use crate::domain::Timestamp;
use crate::http::AppState;
use crate::lambda::testing::{config, embedded_state, stream_record};
use crate::ports::{Message, Queue, QueueError};
use crate::services::events::Event as Happened;
use crate::services::store::outbox;

/// The events queue, failing `fail` sends after the first `ok` ones.
struct Flaky {
    inner: Arc<dyn Queue>,
    ok: AtomicUsize,
    fail: AtomicUsize,
}

#[async_trait]
impl Queue for Flaky {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        let take = |n: &AtomicUsize| n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1)).is_ok();
        if !take(&self.ok) && take(&self.fail) {
            return Err(QueueError::Unavailable(anyhow::anyhow!("injected: events queue down")));
        }
        self.inner.send(body).await
    }
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }
    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        self.inner.delete_many(receipts).await
    }
    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }
}

/// The embedded stack, and a context on it whose events queue sends `ok`
/// messages, then fails `fail`, then works again.
fn stack(dir: &TempDir, ok: usize, fail: usize) -> (AppState, Ctx) {
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    let c = &state.ctx;
    let flaky = Flaky { inner: c.events.clone(), ok: ok.into(), fail: fail.into() };
    let ctx = Ctx::new(
        c.records.clone(),
        c.files.clone(),
        c.fulfil_queue.clone(),
        Arc::new(flaky),
        c.gateway.clone(),
        c.clock.clone(),
        c.ids.clone(),
        c.settings.clone(),
    );
    (state, ctx)
}

/// Records `n` events (in their own transactions) and returns their stored
/// items, oldest first.
async fn record_events(ctx: &Ctx, n: i64) -> Vec<Item> {
    let mut items = Vec::new();
    for i in 0..n {
        crate::services::events::notify(
            ctx,
            Happened::StockLow { product_id: format!("p{i}"), available: i, threshold: 5, days_of_cover: None },
        )
        .await;
    }
    for e in outbox::pending(ctx, 100).next_page().await.unwrap().unwrap() {
        items.push(ctx.records.get(&outbox::key(&e.id).unwrap()).await.unwrap().unwrap());
    }
    assert_eq!(items.len() as i64, n);
    items
}

/// A stream record of `image` as Lambda delivers it (NEW_IMAGE view).
fn record(event_name: &str, sequence: &str, image: &Item) -> Value {
    stream_record(event_name, sequence, image).unwrap()
}

fn batch(records: &[Value]) -> Event {
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn failed(r: &DynamoDbEventResponse) -> Vec<Option<&str>> {
    r.batch_item_failures.iter().map(|f| f.item_identifier.as_deref()).collect()
}

async fn pending_ids(ctx: &Ctx) -> Vec<String> {
    outbox::pending(ctx, 100).next_page().await.unwrap().unwrap_or_default().into_iter().map(|e| e.id).collect()
}

/// The ids of the events on the queue now (received and deleted).
async fn sent_ids(ctx: &Ctx) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let batch = ctx.events.receive(10, Duration::from_secs(60)).await.unwrap();
        if batch.is_empty() {
            return ids;
        }
        for m in batch {
            ctx.events.delete(&m.receipt).await.unwrap();
            let v: Value = serde_json::from_str(&m.body).unwrap();
            ids.push(v["id"].as_str().unwrap().to_string());
        }
    }
}

#[test]
fn an_image_as_streams_sends_it_reads_as_the_event() {
    // Written by hand in DynamoDB JSON, as in the Lambda console's example.
    let raw = json!({
        "eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_767_225_600,
            "Keys": {"pk": {"S": "EVENTS#020454"}, "sk": {"S": "01KDWZ1X8G0000000000000000"}},
            "NewImage": {
                "pk": {"S": "EVENTS#020454"}, "sk": {"S": "01KDWZ1X8G0000000000000000"},
                "gsi1pk": {"S": "OUTBOX"}, "gsi1sk": {"S": "01KDWZ1X8G0000000000000000"},
                "id": {"S": "01KDWZ1X8G0000000000000000"}, "type": {"S": "stock.low"},
                "at": {"N": "1767225600000"}, "v": {"N": "1"}, "ttl": {"N": "1770249600"},
                "data": {"M": {"product_id": {"S": "bronze"}, "available": {"N": "1"}, "threshold": {"N": "2"},
                               "files": {"L": [{"S": "a"}]}, "note": {"NULL": true}}}
            },
            "SequenceNumber": "4421584500000000017450439091", "SizeBytes": 300, "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
    });
    let event = batch(&[raw]);
    let env = outbox_event(&event.records[0]).expect("an outbox item").expect("readable");
    assert_eq!(
        env,
        Envelope {
            id: "01KDWZ1X8G0000000000000000".into(),
            kind: "stock.low".into(),
            timestamp: Timestamp(1_767_225_600_000).rfc3339(),
            data: json!({"product_id": "bronze", "available": 1, "threshold": 2, "files": ["a"], "note": null}),
        }
    );
}

#[tokio::test]
async fn only_new_outbox_items_are_events() {
    let dir = TempDir::new().unwrap();
    let (state, ctx) = stack(&dir, usize::MAX, 0);
    let items = record_events(&ctx, 1).await;
    let item = &items[0];
    let stored: EventItem = from_item(item.clone()).unwrap();
    let env = outbox_event(&batch(&[record("INSERT", "1", item)]).records[0]).unwrap().unwrap();
    assert_eq!(env, Envelope::from(stored));

    // Its own "dispatched" update (no gsi1pk), the TTL's removal, another
    // record's insert, an events item no longer in the outbox: not events.
    let mut out_of_outbox = item.clone();
    out_of_outbox.remove("gsi1pk");
    out_of_outbox.remove("gsi1sk");
    let mut order = item.clone();
    order.insert("pk".into(), "ORDER#o-1".into());
    let others = [
        record("MODIFY", "2", &out_of_outbox),
        record("MODIFY", "3", item),
        record("REMOVE", "4", item),
        record("INSERT", "5", &order),
        record("INSERT", "6", &out_of_outbox),
    ];
    for r in batch(&others).records {
        assert!(outbox_event(&r).is_none(), "{} {:?}", r.event_name, r.change.sequence_number);
    }
    let response = dispatch_batch(&ctx, batch(&others)).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
    assert!(sent_ids(&state.ctx).await.is_empty(), "nothing sent for records that are not new events");
    assert_eq!(pending_ids(&ctx).await.len(), 1, "still in the outbox");
}

#[tokio::test]
async fn a_failed_dispatch_is_reported_and_the_stream_resumes_from_it() {
    let dir = TempDir::new().unwrap();
    // The queue takes one message, fails the next, then works again.
    let (state, ctx) = stack(&dir, 1, 1);
    let items = record_events(&ctx, 3).await;
    let ids: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    let records: Vec<Value> =
        items.iter().enumerate().map(|(n, i)| record("INSERT", &format!("{}", 100 + n), i)).collect();

    let response = dispatch_batch(&ctx, batch(&records)).await;
    assert_eq!(failed(&response), [Some("101")], "the failed record's sequence number, and only it");
    assert_eq!(sent_ids(&state.ctx).await, [ids[0].clone()], "the one before it went; none after it");
    assert_eq!(pending_ids(&ctx).await, ids[1..], "the failed one and the rest stay in the outbox");

    // Lambda retries from the failed record on.
    let response = dispatch_batch(&ctx, batch(&records[1..])).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
    assert_eq!(sent_ids(&state.ctx).await, ids[1..], "in stream order, with their own ids");
    assert!(pending_ids(&ctx).await.is_empty(), "all out of the outbox");

    // Delivered again (a retried batch): at least once, sent again, no error
    // although it is already out of the outbox.
    let response = dispatch_batch(&ctx, batch(&records[..1])).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", failed(&response));
    assert_eq!(sent_ids(&state.ctx).await, ids[..1]);
}

#[tokio::test]
async fn an_outbox_item_that_is_not_an_event_is_reported_not_skipped() {
    let dir = TempDir::new().unwrap();
    let (state, ctx) = stack(&dir, usize::MAX, 0);
    let items = record_events(&ctx, 2).await;
    let mut broken = items[0].clone();
    broken.remove("type");
    let records = [record("INSERT", "7", &broken), record("INSERT", "8", &items[1])];
    let response = dispatch_batch(&ctx, batch(&records)).await;
    assert_eq!(failed(&response), [Some("7")]);
    assert!(sent_ids(&state.ctx).await.is_empty(), "nothing after it went before it");
    assert_eq!(pending_ids(&ctx).await.len(), 2);
}
