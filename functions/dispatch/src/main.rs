//! Lambda (DynamoDB Streams on the table): hands each new outbox event on to
//! the events queue and takes it out of the outbox, in stream order. Reports
//! the first record that failed (`ReportBatchItemFailures`): the stream
//! resumes from it; after the mapping's retries it goes to the dispatch
//! dead-letter queue, and the expiry schedule hands the event on anyway.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::lambda;
use shared::services::Ctx;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // No secrets: dispatching signs nothing and calls no provider.
    let state = lambda::app_state(&[]).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// One batch of stream records, handed on one after the other.
async fn handler(ctx: &Ctx, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, Error> {
    Ok(lambda::dispatch_batch(ctx, event.payload).await)
}

#[cfg(test)]
mod tests;
