//! `Queue` on an SQS standard queue; SQS itself redrives to the dead-letter
//! queue (RedrivePolicy, maxReceiveCount = `MAX_RECEIVES`).

mod setup;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use tokio::sync::OnceCell;

pub use setup::{QueueUrls, create_queues_if_missing, queue_url};

use super::metrics::RequestCounter;
use crate::ports::queue::{Message, Queue, QueueError};

/// SQS hands out at most this many messages per ReceiveMessage.
const MAX_PER_RECEIVE: usize = 10;
/// SQS's longest visibility timeout (12 hours).
const MAX_VISIBILITY_SECS: u64 = 43_200;

#[derive(Debug)]
pub struct SqsQueue {
    client: Client,
    url: String,
    /// The dead-letter queue's URL (None: the queue has none), found from the
    /// queue's RedrivePolicy when first needed unless given.
    dlq: OnceCell<Option<String>>,
    counter: RequestCounter,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>, counter: RequestCounter) -> Self {
        Self { client, url: url.into(), dlq: OnceCell::new(), counter }
    }

    /// Names the dead-letter queue, saving the lookup.
    pub fn with_dead_letter_queue(client: Client, urls: QueueUrls, counter: RequestCounter) -> Self {
        let dlq = OnceCell::new_with(Some(Some(urls.dlq_url)));
        Self { client, url: urls.url, dlq, counter }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn dlq_url(&self) -> Result<Option<&String>, QueueError> {
        let found = self.dlq.get_or_try_init(|| setup::find_dead_letter_queue(&self.client, &self.url, &self.counter));
        Ok(found.await.map_err(QueueError::Unavailable)?.as_ref())
    }
}

pub(super) fn unavailable<E, R>(op: &str, err: SdkError<E, R>) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    QueueError::Unavailable(anyhow::anyhow!("{op}: {}", DisplayErrorContext(&err)))
}

/// Whole seconds, rounded up so a message is never visible too early.
fn visibility_secs(visibility: Duration) -> i32 {
    let secs = visibility.as_secs() + u64::from(visibility.subsec_nanos() > 0);
    i32::try_from(secs.min(MAX_VISIBILITY_SECS)).unwrap_or(i32::MAX)
}

fn message(m: aws_sdk_sqs::types::Message) -> Result<Message, QueueError> {
    let missing = |what: &str| QueueError::Unavailable(anyhow::anyhow!("ReceiveMessage: message without {what}"));
    let receive_count = m
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| missing("ApproximateReceiveCount"))?;
    Ok(Message {
        id: m.message_id.ok_or_else(|| missing("MessageId"))?,
        receipt: m.receipt_handle.ok_or_else(|| missing("ReceiptHandle"))?,
        body: m.body.unwrap_or_default(),
        receive_count,
    })
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<(), QueueError> {
        let req = self.client.send_message().queue_url(&self.url).message_body(body);
        self.counter.call("sqs.SendMessage", req.send()).await.map_err(|e| unavailable("SendMessage", e))?;
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let mut out = Vec::new();
        while out.len() < max {
            let want = (max - out.len()).min(MAX_PER_RECEIVE);
            let req = self
                .client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(i32::try_from(want).unwrap_or(10))
                .visibility_timeout(visibility_secs(visibility))
                // Short poll: the port returns what is visible now.
                .wait_time_seconds(0)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount);
            let got = self
                .counter
                .call("sqs.ReceiveMessage", req.send())
                .await
                .map_err(|e| unavailable("ReceiveMessage", e))?;
            let messages = got.messages.unwrap_or_default();
            let short = messages.len() < want;
            for m in messages {
                out.push(message(m)?);
            }
            if short {
                break;
            }
        }
        Ok(out)
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let req = self.client.delete_message().queue_url(&self.url).receipt_handle(receipt);
        match self.counter.call("sqs.DeleteMessage", req.send()).await {
            Ok(_) => Ok(()),
            Err(e) if e.code().is_some_and(bad_receipt) => Err(QueueError::BadReceipt),
            Err(e) => Err(unavailable("DeleteMessage", e)),
        }
    }

    async fn delete_many(&self, receipts: &[String]) -> Result<(), QueueError> {
        for chunk in receipts.chunks(MAX_PER_RECEIVE) {
            let mut req = self.client.delete_message_batch().queue_url(&self.url);
            for (i, receipt) in chunk.iter().enumerate() {
                let entry = DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(receipt).build();
                req = req.entries(entry.map_err(|e| QueueError::Unavailable(anyhow::Error::new(e)))?);
            }
            let out = match self.counter.call("sqs.DeleteMessageBatch", req.send()).await {
                Ok(out) => out,
                Err(e) if e.code().is_some_and(bad_receipt) => return Err(QueueError::BadReceipt),
                Err(e) => return Err(unavailable("DeleteMessageBatch", e)),
            };
            if let Some(failed) = out.failed().first() {
                if bad_receipt(failed.code()) {
                    return Err(QueueError::BadReceipt);
                }
                let why = format!("{}: {}", failed.code(), failed.message().unwrap_or(""));
                return Err(QueueError::Unavailable(anyhow::anyhow!("DeleteMessageBatch refused an entry: {why}")));
            }
        }
        Ok(())
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        let Some(dlq) = self.dlq_url().await? else {
            return Ok(0);
        };
        let req = self
            .client
            .get_queue_attributes()
            .queue_url(dlq)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed);
        let out = self
            .counter
            .call("sqs.GetQueueAttributes", req.send())
            .await
            .map_err(|e| unavailable("GetQueueAttributes", e))?;
        let attrs = out.attributes.unwrap_or_default();
        Ok(attrs.values().filter_map(|n| n.parse::<usize>().ok()).sum())
    }
}

/// SQS's codes for a receipt handle it cannot use, whole request or batch entry.
fn bad_receipt(code: &str) -> bool {
    matches!(code, "ReceiptHandleIsInvalid" | "InvalidIdFormat")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rounds_up_to_whole_seconds() {
        assert_eq!(visibility_secs(Duration::ZERO), 0);
        assert_eq!(visibility_secs(Duration::from_millis(1)), 1);
        assert_eq!(visibility_secs(Duration::from_millis(2000)), 2);
        assert_eq!(visibility_secs(Duration::from_millis(2001)), 3);
        assert_eq!(visibility_secs(Duration::from_secs(u64::MAX)), 43_200);
    }
}
