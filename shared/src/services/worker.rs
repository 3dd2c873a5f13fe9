//! The fulfilment queue consumer used by the local stack (on Lambda, SQS
//! invokes `fulfil::handle` per record instead).

use std::sync::Arc;
use std::time::Duration;

use super::fulfil::{self, FulfilOutcome};
use super::{Ctx, ServiceError};

/// Receives one batch and handles its messages concurrently. A message is
/// deleted when done or when retrying cannot help; otherwise it is left to
/// reappear after `visibility` (and to reach the dead-letter queue after five
/// receives). Returns how many messages were received.
pub async fn drain_once(ctx: &Arc<Ctx>, visibility: Duration) -> Result<usize, ServiceError> {
    let batch = ctx.fulfil_queue.receive(10, visibility).await?;
    let n = batch.len();
    let mut tasks = tokio::task::JoinSet::new();
    for msg in batch {
        let ctx = Arc::clone(ctx);
        tasks.spawn(async move {
            let result = fulfil::handle(&ctx, &msg.body).await;
            match &result {
                Ok(FulfilOutcome::Fulfilled { .. }) | Ok(FulfilOutcome::AlreadyDone) => {}
                Ok(other) => tracing::info!(body = %msg.body, outcome = ?other, "fulfilment message handled"),
                Err(e) if e.is_retryable() => {
                    tracing::warn!(body = %msg.body, receives = msg.receive_count, error = ?e, "fulfilment will be retried");
                    return;
                }
                Err(e) => tracing::error!(body = %msg.body, error = ?e, "fulfilment message dropped"),
            }
            if let Err(e) = ctx.fulfil_queue.delete(&msg.receipt).await {
                tracing::warn!(error = %e, "could not delete a handled message; it will be handled again");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(n)
}
