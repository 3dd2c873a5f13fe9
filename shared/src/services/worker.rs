//! The fulfilment queue consumer used by the local stack (on Lambda, SQS
//! invokes `fulfil::handle` per record instead).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::fulfil::{self, FulfilOutcome};
use super::{Ctx, ServiceError};
use crate::ports::queue::{MAX_RECEIVES, Message};

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
/// deleted when done or when retrying cannot help (all of the batch's in one
/// `delete_many` once the last is handled: one commit instead of one each,
/// and a crash before it only hands them to idempotent handlers again);
/// otherwise it is left to reappear after `visibility` (and to reach the
/// dead-letter queue after five receives). Returns how many messages were
/// received.
pub async fn drain_once(ctx: &Arc<Ctx>, visibility: Duration) -> Result<usize, ServiceError> {
    let batch = ctx.fulfil_queue.receive(10, visibility).await?;
    let n = batch.len();
    let mut tasks = tokio::task::JoinSet::new();
    for msg in batch {
        let ctx = Arc::clone(ctx);
        tasks.spawn(async move { handled(&ctx, &msg).await.then_some(msg.receipt) });
    }
    let mut done = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Some(receipt)) => done.push(receipt),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "a fulfilment task panicked; its message will be handled again"),
        }
    }
    if let Err(e) = ctx.fulfil_queue.delete_many(&done).await {
        tracing::warn!(error = %e, count = done.len(), "could not delete handled messages; they will be handled again");
    }
    Ok(n)
}

/// Handles one message; true when it should be deleted.
async fn handled(ctx: &Ctx, msg: &Message) -> bool {
    let result = fulfil::handle(ctx, &msg.body).await;
    match &result {
        Ok(FulfilOutcome::Fulfilled { .. }) | Ok(FulfilOutcome::AlreadyDone) => {}
        Ok(other) => tracing::info!(body = %msg.body, outcome = ?other, "fulfilment message handled"),
        Err(e) if e.is_retryable() && msg.receive_count >= MAX_RECEIVES => {
            ctx.worker.dead_lettered.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                metric = "fulfil_dead_lettered", body = %msg.body, receives = msg.receive_count, error = ?e,
                "fulfilment failed its last try; the message goes to the dead-letter queue"
            );
            return false;
        }
        Err(e) if e.is_retryable() => {
            tracing::warn!(body = %msg.body, receives = msg.receive_count, error = ?e, "fulfilment will be retried");
            return false;
        }
        Err(e) => tracing::error!(body = %msg.body, error = ?e, "fulfilment message dropped"),
    }
    true
}
