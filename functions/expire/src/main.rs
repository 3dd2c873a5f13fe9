//! Lambda (EventBridge schedule, every 15 min): checks stale unpaid orders
//! with their provider, releases lapsed holds, requeues lost fulfilment;
//! `expire_job` also runs the usage jobs (period resets, seat snapshots).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::lambda;
use shared::services::{Ctx, schedule};

/// Secrets this function must have (infra/README.md); the rest are random.
const NEEDS: &[&str] = &["NOWPAYMENTS_API_KEY", "STRIPE_SECRET_KEY"];

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // Config, AWS clients and the gateway: once per cold start.
    let state = lambda::app_state(NEEDS).await?;
    let ctx: &Ctx = &state.ctx;
    lambda_runtime::run(service_fn(|event| handler(ctx, event))).await
}

/// The event says only that it is time (any JSON is accepted); the report
/// is logged and returned, or the invocation fails after every step ran if
/// any of them failed.
async fn handler(ctx: &Ctx, _event: LambdaEvent<Value>) -> Result<Value, Error> {
    lambda::job_steps("expire", schedule::expire_job(ctx).await)
}

#[cfg(test)]
mod tests;
