//! The fulfil handler on the embedded backend, called with an SQS event as
//! Lambda delivers it and `Context::default()`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Context, LambdaEvent};
use shared::domain::OrderStatus;
use shared::http::AppState;
use shared::lambda::testing::{add_stock, config, embedded_state, paid_order};
use shared::services::orders;
use tempfile::TempDir;

use super::handler;

/// The fixture batch: two fulfilment messages, a poison message and one for
/// an order that does not exist.
fn batch(order_1: &str, order_2: &str) -> SqsEvent {
    let raw = include_str!("../events/batch.json").replace("ORDER_1", order_1).replace("ORDER_2", order_2);
    serde_json::from_str(&raw).unwrap()
}

async fn run(state: &AppState, event: SqsEvent) -> SqsBatchResponse {
    handler(&state.ctx, LambdaEvent::new(event, Context::default())).await.unwrap()
}

fn failed_ids(r: &SqsBatchResponse) -> Vec<&str> {
    r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
}

async fn status_of(state: &AppState, order_id: &str) -> OrderStatus {
    orders::load(&state.ctx, order_id).await.unwrap().unwrap().order.status
}

async fn stack(dir: &TempDir) -> (AppState, String, String) {
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    add_stock(&state, &["s1.session", "s2.session", "s3.session"]).await.unwrap();
    let a = paid_order(&state, "a@example.com").await.unwrap();
    let b = paid_order(&state, "b@example.com").await.unwrap();
    (state, a, b)
}

#[tokio::test]
async fn paid_orders_are_fulfilled_and_hopeless_messages_acknowledged() {
    let dir = TempDir::new().unwrap();
    let (state, a, b) = stack(&dir).await;
    let response = run(&state, batch(&a, &b)).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", failed_ids(&response));
    assert_eq!(status_of(&state, &a).await, OrderStatus::Fulfilled);
    assert_eq!(status_of(&state, &b).await, OrderStatus::Fulfilled);
    let assigned = state.ctx.files.list("assigned/", None, 10).await.unwrap();
    assert_eq!(assigned.keys.len(), 2, "{:?}", assigned.keys);

    // Redelivered: already done, nothing moves twice.
    let response = run(&state, batch(&a, &b)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(state.ctx.files.list("assigned/", None, 10).await.unwrap().keys.len(), 2);
}

#[tokio::test]
async fn a_failure_that_may_pass_is_reported_by_message_id_and_finishes_on_redelivery() {
    let dir = TempDir::new().unwrap();
    let (state, a, b) = stack(&dir).await;
    // One of the two crashes between claiming its file and moving it.
    state.ctx.faults.arm("fulfil.after_claim", 1);
    let response = run(&state, batch(&a, &b)).await;
    let failed = failed_ids(&response);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let first = serde_json::to_value(batch(&a, &b)).unwrap();
    let ids: Vec<&str> = first["Records"].as_array().unwrap().iter().filter_map(|r| r["messageId"].as_str()).collect();
    assert!(ids[..2].contains(&failed[0]), "{failed:?} should be one of {ids:?}");

    let response = run(&state, batch(&a, &b)).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", failed_ids(&response));
    assert_eq!(status_of(&state, &a).await, OrderStatus::Fulfilled);
    assert_eq!(status_of(&state, &b).await, OrderStatus::Fulfilled);
}
