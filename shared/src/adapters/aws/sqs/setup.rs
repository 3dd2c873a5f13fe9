//! Queue creation (emulators and first runs) and finding a queue's
//! dead-letter queue from its RedrivePolicy.

use anyhow::Context;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::adapters::aws::metrics::RequestCounter;
use crate::ports::queue::MAX_RECEIVES;

/// A work queue and its dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueUrls {
    pub url: String,
    pub dlq_url: String,
}

/// Creates `{name}-dlq` and `{name}` (redriving to it after `MAX_RECEIVES`
/// receives) unless they exist; an existing `{name}` gets the policy set.
pub async fn create_queues_if_missing(client: &Client, name: &str) -> anyhow::Result<QueueUrls> {
    let dlq_url = create_queue(client, &format!("{name}-dlq"), None).await?;
    let arn = queue_arn(client, &dlq_url).await?;
    let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES.to_string() });
    let url = create_queue(client, name, Some(policy.to_string())).await?;
    Ok(QueueUrls { url, dlq_url })
}

/// The URL of an existing queue.
pub async fn queue_url(client: &Client, name: &str) -> anyhow::Result<String> {
    let out = client
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueUrl {name}: {}", DisplayErrorContext(&e)))?;
    out.queue_url.with_context(|| format!("GetQueueUrl {name}: no URL"))
}

async fn create_queue(client: &Client, name: &str, redrive: Option<String>) -> anyhow::Result<String> {
    let req = client.create_queue().queue_name(name);
    let req = match &redrive {
        Some(policy) => req.attributes(QueueAttributeName::RedrivePolicy, policy),
        None => req,
    };
    match req.send().await {
        Ok(out) => out.queue_url.with_context(|| format!("CreateQueue {name}: no URL")),
        // It exists with other attributes: keep it, but make it redrive.
        Err(e) if matches!(e.code(), Some("QueueAlreadyExists" | "QueueNameExists")) => {
            let url = queue_url(client, name).await?;
            if let Some(policy) = redrive {
                client
                    .set_queue_attributes()
                    .queue_url(&url)
                    .attributes(QueueAttributeName::RedrivePolicy, policy)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("SetQueueAttributes {name}: {}", DisplayErrorContext(&e)))?;
            }
            Ok(url)
        }
        Err(e) => anyhow::bail!("CreateQueue {name}: {}", DisplayErrorContext(&e)),
    }
}

async fn queue_arn(client: &Client, url: &str) -> anyhow::Result<String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueAttributes {url}: {}", DisplayErrorContext(&e)))?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("GetQueueAttributes {url}: no QueueArn"))
}

/// The dead-letter queue named by the queue's RedrivePolicy, if any.
pub(super) async fn find_dead_letter_queue(
    client: &Client,
    url: &str,
    counter: &RequestCounter,
) -> anyhow::Result<Option<String>> {
    let req = client.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::RedrivePolicy);
    let out = counter
        .call("sqs.GetQueueAttributes", req.send())
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueAttributes {url}: {}", DisplayErrorContext(&e)))?;
    let Some(policy) = out.attributes.and_then(|mut a| a.remove(&QueueAttributeName::RedrivePolicy)) else {
        return Ok(None);
    };
    let policy: serde_json::Value = serde_json::from_str(&policy).context("RedrivePolicy is not JSON")?;
    let arn = policy["deadLetterTargetArn"].as_str().context("RedrivePolicy without deadLetterTargetArn")?;
    // arn:aws:sqs:{region}:{account}:{name}
    let mut parts = arn.rsplit(':');
    let (name, account) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let req = client.get_queue_url().queue_name(name).queue_owner_aws_account_id(account);
    let out = counter
        .call("sqs.GetQueueUrl", req.send())
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueUrl {name}: {}", DisplayErrorContext(&e)))?;
    Ok(Some(out.queue_url.with_context(|| format!("GetQueueUrl {name}: no URL"))?))
}
