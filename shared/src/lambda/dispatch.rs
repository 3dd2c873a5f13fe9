//! The outbox's dispatcher: a DynamoDB Streams batch of the table's changes,
//! each new outbox item handed on (`dispatch::dispatch`: to the events queue,
//! then out of the `OUTBOX` index), in stream order, partial batch failures.
//!
//! The event source mapping's filter passes only INSERTs of `EVENTS#` items
//! still in the outbox (infra/template.yaml); the same test is made here, so
//! anything else that arrives is ignored. Taking an event out of the outbox
//! is an UpdateItem, a MODIFY whose new image has no `gsi1pk`: it does not
//! come back. An event still in the outbox a minute on is handed on by the
//! expiry schedule (`events::dispatch_pending`) whatever happened here.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::Instrument;

use crate::ports::Item;
use crate::ports::records::{GSI1PK, PK};
use crate::services::events::Envelope;
use crate::services::items::from_item;
use crate::services::store::outbox::EventItem;
use crate::services::{Ctx, ServiceError};

/// What the outbox's items carry: `pk` = `EVENTS#{day}`, `gsi1pk` = `OUTBOX`
/// until dispatched.
const EVENTS_PREFIX: &str = "EVENTS#";
const OUTBOX: &str = "OUTBOX";

/// Hands on the batch's outbox events one after the other, in stream order.
/// At the first that fails (the queue or the table unavailable, an image
/// that does not read as an event) it stops and reports that record's
/// sequence number: the stream resumes from there, so that event is retried
/// and the ones after it are not handed on before it. Records before it are
/// done. The mapping's retries, bisection and on-failure queue bound how long
/// one event can hold its shard; it stays in the outbox for the schedule.
pub async fn dispatch_batch(ctx: &Ctx, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(decoded) = outbox_event(record) else {
            tracing::debug!(event_name = %record.event_name, "stream record is not a new outbox event: ignored");
            continue;
        };
        let sequence = record.change.sequence_number.clone();
        let (id, kind) = match &decoded {
            Ok(env) => (env.id.clone(), env.kind.clone()),
            Err(_) => (String::new(), String::new()),
        };
        let span = tracing::info_span!("dispatch", event_id = %id, event_type = %kind, sequence = sequence.as_deref());
        let failed = async {
            let result = match decoded {
                Ok(env) => crate::services::dispatch::dispatch(ctx, env).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    tracing::info!("event dispatched");
                    false
                }
                Err(e) => {
                    tracing::error!(error = ?e, "event not dispatched; the stream retries from it");
                    true
                }
            }
        }
        .instrument(span)
        .await;
        if failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            // No sequence number (never on a real record): Lambda then
            // retries the whole batch, the safe side.
            failure.item_identifier = sequence;
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// The event of a stream record, if the record is the INSERT of an outbox
/// item: `None` for anything else, an error for an outbox item whose image
/// does not read as an event.
pub fn outbox_event(record: &EventRecord) -> Option<Result<Envelope, ServiceError>> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image: Item = match serde_dynamo::from_item(record.change.new_image.clone()) {
        Ok(image) => image,
        Err(e) => {
            // Not even its key reads: ours only if the raw key says so.
            let pk = record.change.keys.get(PK).or_else(|| record.change.new_image.get(PK));
            let ours = matches!(pk, Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with(EVENTS_PREFIX));
            return ours.then(|| Err(ServiceError::internal(anyhow::anyhow!("outbox image not readable: {e}"))));
        }
    };
    let is_outbox = image.get(PK).and_then(|v| v.as_str()).is_some_and(|pk| pk.starts_with(EVENTS_PREFIX))
        && image.get(GSI1PK).and_then(|v| v.as_str()) == Some(OUTBOX);
    if !is_outbox {
        return None;
    }
    Some(from_item::<EventItem>(image).map(Envelope::from).map_err(ServiceError::from))
}

#[cfg(test)]
mod tests;
