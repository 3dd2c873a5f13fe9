//! Lambda (EventBridge schedule, hourly): adopts files uploaded under
//! `unused/` as new stock and reports drift between S3 and the records.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::lambda;
use shared::services::{Ctx, reconcile};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // No secrets: reconcile signs nothing and calls no provider.
    let state = lambda::app_state(&[]).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// The event says only that it is time (any JSON is accepted); the report
/// is logged and returned.
async fn handler(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    lambda::job_steps("reconcile", reconcile::run(ctx, "schedule:reconcile").await)
}

#[cfg(test)]
mod tests;
