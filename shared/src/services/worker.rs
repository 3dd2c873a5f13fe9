//! The fulfilment queue consumer used by the local stack (on Lambda, SQS
//! invokes `fulfil::handle` per record instead).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::fulfil::{self, FulfilOutcome};
use super::{Ctx, ServiceError};
use crate::ports::queue::MAX_RECEIVES;

/// The worker's alarm metric: messages it gave up on (their last receive
/// failed, so the queue moves them to the dead-letter queue). On AWS the
/// CloudWatch alarm on the dead-letter queue's depth is the same signal.
#[derive(Debug, Default)]
pub struct WorkerMetrics {
    pub dead_lettered: AtomicU64,
}

impl WorkerMetrics {
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
}

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
                Err(e) if e.is_retryable() && msg.receive_count >= MAX_RECEIVES => {
                    ctx.worker.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        metric = "fulfil_dead_lettered", body = %msg.body, receives = msg.receive_count, error = ?e,
                        "fulfilment failed its last try; the message goes to the dead-letter queue"
                    );
                    return;
                }
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
