//! What every Lambda function shares: JSON logs, the AWS backend and payment
//! gateway built once per cold start, the HTTP edge (API Gateway's source IP
//! as `ClientIp`), the fulfilment and outbox dispatch batch handlers and the
//! scheduled jobs' report.

mod dispatch;
mod edge;
mod fulfil;
#[cfg(feature = "testkit")]
pub mod testing;
mod wiring;

pub use dispatch::{dispatch_batch, outbox_event};
pub use edge::{client_ip_from_gateway, http_router};
pub use fulfil::fulfil_batch;
pub use wiring::{app_state, backend};

use serde::Serialize;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::services::ServiceError;
use crate::services::jobs::StepReport;

/// JSON log lines on stdout, each carrying the spans it sits in, so the
/// runtime's `requestId` (and `order_id` where one is known) is on every line.
/// The filter is `AWS_LAMBDA_LOG_LEVEL` (the function's logging config), else
/// `RUST_LOG` (`info`, or `shared=debug,info`), else info. Not
/// `lambda_runtime::tracing::init_default_subscriber`: that writes text unless
/// the function's log format is JSON, and reads `RUST_LOG` as a bare level.
/// `Targets` rather than `EnvFilter`: the same syntax without span filters,
/// and without a regex engine in every binary.
pub fn init_tracing() {
    let wanted =
        std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".into());
    // Lambda's levels include FATAL, which tracing does not have.
    let wanted = if wanted.eq_ignore_ascii_case("fatal") { "error".to_string() } else { wanted };
    // Turbofish: scripts/iam-reach.py resolves a bare `.parse()` to the
    // services' own `parse` methods, and would credit every function with
    // what checkout's request parsing reaches.
    let filter = wanted.parse::<Targets>().unwrap_or_else(|_| Targets::new().with_default(Level::INFO));
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_writer(std::io::stdout)
        .finish()
        .with(filter);
    // Already set (tests call this more than once): keep the first.
    let _ = subscriber.try_init();
}

/// Logs a scheduled job's report and returns it as the invocation's result.
/// A failed job fails the invocation, so it shows in the function's error
/// metrics; the next scheduled run starts over.
pub fn job_result<T: Serialize>(
    job: &'static str,
    result: Result<T, ServiceError>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    match result {
        Ok(report) => {
            let value = serde_json::to_value(&report)?;
            tracing::info!(job, report = %value, "job done");
            Ok(value)
        }
        Err(e) => {
            tracing::error!(job, error = ?e, "job failed");
            Err(e.into())
        }
    }
}

/// Logs the report of a job that runs every step whatever fails, and
/// returns it. Only after all steps ran does a failed one fail the
/// invocation: EventBridge retries it and the function's Errors alarm fires,
/// while the steps that worked have done their work.
pub fn job_steps<T: Serialize + StepReport>(
    job: &'static str,
    report: T,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let value = serde_json::to_value(&report)?;
    let failed = report.failed_steps();
    if failed.is_empty() {
        tracing::info!(job, report = %value, "job done");
        return Ok(value);
    }
    tracing::error!(job, ?failed, report = %value, "job steps failed");
    Err(format!("{job}: steps failed: {}", failed.join(", ")).into())
}
