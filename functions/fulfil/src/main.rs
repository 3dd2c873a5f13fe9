//! Lambda (SQS): hands out stock for paid orders. Reports the messages to
//! retry (`ReportBatchItemFailures`); the DLQ takes them after 5 receives.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::lambda;
use shared::services::Ctx;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // No secrets: fulfilment signs nothing and calls no provider.
    let state = lambda::app_state(&[]).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// One batch, its messages handled concurrently.
async fn handler(ctx: &Ctx, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    Ok(lambda::fulfil_batch(ctx, event.payload).await)
}

#[cfg(test)]
mod tests;
