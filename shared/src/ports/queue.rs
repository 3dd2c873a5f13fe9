//! A work queue with SQS's semantics: at-least-once delivery, visibility
//! timeout, and redrive to a dead-letter queue after `max_receives` receives.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// Handle for `delete`; changes on every receive.
    pub receipt: String,
    pub body: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("unknown or stale receipt")]
    BadReceipt,
    #[error("queue unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// Receives after which a message goes to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: String) -> Result<(), QueueError>;
    /// Up to `max` visible messages, each hidden for `visibility` afterwards.
    /// A message already received `MAX_RECEIVES` times is moved to the
    /// dead-letter queue instead of being delivered again.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError>;
    /// Deleting an already deleted message is success.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Deletes several messages in as few requests as the queue allows (one
    /// for up to ten on SQS, one commit on the embedded queue). On failure
    /// some may be deleted and some not; consumers are idempotent, so a
    /// message left behind is only handled again.
    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        for receipt in receipts {
            self.delete(receipt).await?;
        }
        Ok(())
    }
    /// Messages now in this queue's dead-letter queue (approximate on SQS).
    async fn dead_letter_count(&self) -> Result<usize, QueueError>;
}
