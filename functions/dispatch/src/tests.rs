//! The dispatch handler on the embedded backend, called with a DynamoDB
//! Streams event as Lambda delivers it and `Context::default()`.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Context, LambdaEvent};
use shared::domain::Timestamp;
use shared::lambda::testing::{config, embedded_state};
use shared::services::events;
use shared::services::store::outbox::{self, EventItem};
use tempfile::TempDir;

use super::handler;

/// The fixture: an outbox item's INSERT, then the MODIFY of its dispatch.
fn fixture(item: &EventItem) -> Event {
    let pk = outbox::key(&item.id).unwrap().pk;
    let raw = include_str!("../events/insert.json")
        .replace("EVENTS#PK", &pk)
        .replace("EVENT_ID", &item.id)
        .replace("AT_MILLIS", &item.at.millis().to_string());
    serde_json::from_str(&raw).unwrap()
}

#[tokio::test]
async fn a_new_outbox_event_goes_to_the_events_queue_once_and_leaves_the_outbox() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    let ctx = &state.ctx;
    let at = Timestamp(1_767_225_600_000);
    let item = EventItem {
        id: outbox::new_id(at),
        kind: "stock.low".into(),
        at,
        data: serde_json::json!({"product_id": "bronze", "available": 1, "threshold": 2}),
        v: 1,
    };
    ctx.records.transact(vec![outbox::put(&item).unwrap()]).await.unwrap();

    let response = handler(ctx, LambdaEvent::new(fixture(&item), Context::default())).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert!(outbox::pending(ctx, 10).next_page().await.unwrap().unwrap_or_default().is_empty(), "out of the outbox");
    let sent = ctx.events.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(sent.len(), 1, "the INSERT only: {sent:?}");
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    let env = events::Envelope::from(item);
    assert_eq!(body["id"], env.id.as_str());
    assert_eq!(body["type"], "stock.low");
    assert_eq!(body["at"], env.timestamp.as_str());
    assert_eq!(body["data"], env.data);
}
