//! The fulfilment queue's consumer (hand out an order's files, or take a
//! subscription's back): one SQS batch, partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use tracing::Instrument;

use crate::services::Ctx;
use crate::services::fulfil;
use crate::services::jobs::Job;

/// Handles a batch concurrently. Messages that failed for a reason that may
/// pass (storage errors, a contended claim) are reported, so SQS delivers
/// them again; ones retrying cannot help (a bad body, an unknown order) are
/// logged and acknowledged. Each step of fulfilment is idempotent, so a
/// redelivery finishes half-done work; after 5 receives the DLQ takes it.
pub async fn fulfil_batch(ctx: &Ctx, event: SqsEvent) -> SqsBatchResponse {
    let retry = join_all(event.records.iter().map(|m| one(ctx, m))).await;
    let mut response = SqsBatchResponse::default();
    for message_id in retry.into_iter().flatten() {
        response.add_failure(message_id);
    }
    response
}

/// The message id when the message should come back.
async fn one(ctx: &Ctx, msg: &SqsMessage) -> Option<String> {
    let message_id = msg.message_id.clone().unwrap_or_default();
    let body = msg.body.as_deref().unwrap_or_default();
    let (order_id, subscription_id) = match serde_json::from_str::<Job>(body) {
        Ok(Job::Fulfil { order_id, .. }) => (Some(order_id), None),
        Ok(Job::Revoke { revoke_subscription_id }) => (None, Some(revoke_subscription_id)),
        Ok(Job::TakeBack { take_back_subscription_id, .. }) => (None, Some(take_back_subscription_id)),
        Err(_) => (None, None),
    };
    let span = tracing::info_span!(
        "fulfil",
        message_id = %message_id,
        order_id = order_id.as_deref(),
        subscription_id = subscription_id.as_deref()
    );
    async {
        match fulfil::handle(ctx, body).await {
            Ok(outcome) => {
                tracing::info!(?outcome, "queue message handled");
                None
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = ?e, "queue message failed; left for redelivery");
                // An empty id makes Lambda retry the whole batch: the safe side.
                Some(message_id.clone())
            }
            Err(e) => {
                tracing::error!(error = ?e, "queue message dropped: retrying cannot help");
                None
            }
        }
    }
    .instrument(span)
    .await
}
