//! Lambda (EventBridge schedule, every minute): the merchant webhook
//! attempts and the mails that are due, first tries and retries
//! (`schedule::deliver_job`). The dispatcher only records them; without
//! this they would wait for the 15-minute expiry schedule.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::lambda;
use shared::services::{Ctx, schedule};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // No secrets: webhook secrets are in the records, SES needs none.
    let state = lambda::app_state(&[]).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// The event only says it is time. The report is logged and returned; a
/// step that failed (storage, not a receiver or an address) fails the
/// invocation after both steps ran, so it reaches the Errors alarm and the
/// schedule's dead-letter queue.
async fn handler(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    lambda::job_steps("deliver", schedule::deliver_job(ctx).await)
}

#[cfg(test)]
mod tests;
