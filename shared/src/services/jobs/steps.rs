//! Scheduled jobs run several independent steps. One failing step (an
//! AccessDenied, a throttled query) must not skip the others: every step
//! runs, each outcome goes into the job's report, and the job counts as
//! failed only after all of them ran (the Lambda then returns an error, so
//! EventBridge retries and the errors alarm fires).

use std::future::Future;

use serde::Serialize;

use super::super::ServiceError;

/// How one step of a job went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepOutcome {
    pub name: String,
    pub ok: bool,
    /// Why it failed, in the words of the error (details are in the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A job's step outcomes, in the order they ran.
#[derive(Debug, Default)]
pub struct Steps {
    outcomes: Vec<StepOutcome>,
}

impl Steps {
    /// Runs one step; its value, or `None` when it failed (then logged and
    /// recorded, and the caller goes on with the next step).
    pub async fn run<T>(&mut self, name: &str, step: impl Future<Output = Result<T, ServiceError>>) -> Option<T> {
        match step.await {
            Ok(value) => {
                self.push(name, None);
                Some(value)
            }
            Err(e) => {
                self.failed(name, &e);
                None
            }
        }
    }

    /// Records a step that failed as a whole.
    pub fn failed(&mut self, name: &str, e: &ServiceError) {
        tracing::error!(step = name, error = ?e, "job step failed; the next steps still run");
        self.push(name, Some(e.to_string()));
    }

    /// Records a step that goes on past a failed item and counts the
    /// failures (each already logged): it failed if any item did.
    pub fn items(&mut self, name: &str, failed: u64, what: &str) {
        if failed == 0 {
            return self.push(name, None);
        }
        tracing::error!(step = name, failed, "job step had failures; the next steps still run");
        self.push(name, Some(format!("{failed} {what} failed")));
    }

    fn push(&mut self, name: &str, error: Option<String>) {
        self.outcomes.push(StepOutcome { name: name.to_string(), ok: error.is_none(), error });
    }

    pub fn finish(self) -> Vec<StepOutcome> {
        self.outcomes
    }
}

/// The report of a job made of steps.
pub trait StepReport {
    fn steps(&self) -> &[StepOutcome];

    /// The names of the failed steps; empty when all went through.
    fn failed_steps(&self) -> Vec<&str> {
        self.steps().iter().filter(|s| !s.ok).map(|s| s.name.as_str()).collect()
    }

    /// The report when every step went through, else an error naming the
    /// failed ones (for callers that stop at any failure: tests, benchmarks).
    fn all_ok(self) -> Result<Self, ServiceError>
    where
        Self: Sized,
    {
        match self.failed_steps().as_slice() {
            [] => {}
            failed => return Err(ServiceError::Internal(anyhow::anyhow!("steps failed: {}", failed.join(", ")))),
        }
        Ok(self)
    }
}

impl StepReport for Vec<StepOutcome> {
    fn steps(&self) -> &[StepOutcome] {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_step_is_recorded_and_the_next_still_runs() {
        let mut steps = Steps::default();
        assert_eq!(steps.run("a", async { Ok::<_, ServiceError>(1) }).await, Some(1));
        assert_eq!(steps.run("b", async { Err::<u8, _>(ServiceError::Injected("x")) }).await, None);
        assert_eq!(steps.run("c", async { Ok::<_, ServiceError>("ran") }).await, Some("ran"));
        steps.items("d", 2, "subscriptions");
        steps.items("e", 0, "subscriptions");
        let out = steps.finish();
        assert_eq!(out.failed_steps(), ["b", "d"]);
        assert_eq!(out[1].error.as_deref(), Some("injected fault at x"));
        assert_eq!(out[3].error.as_deref(), Some("2 subscriptions failed"));
        assert_eq!(out.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
    }
}
