//! Lambda (EventBridge schedule, hourly): posts pending loyalty credits whose
//! hold has ended and whose purchase is still active; settles spends of
//! orders that were paid, expired or failed.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::lambda;
use shared::services::{Ctx, credits};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // No secrets: the credits job signs nothing and calls no provider.
    let state = lambda::app_state(&[]).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// The event says only that it is time (any JSON is accepted); the report
/// is logged and returned.
async fn handler(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    lambda::job_result("credits", credits::post_due(ctx, "schedule:credits").await)
}

#[cfg(test)]
mod tests;
