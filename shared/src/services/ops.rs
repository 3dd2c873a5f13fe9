//! Staff are told when the system itself goes wrong: a scheduled job's
//! step failed, the invariant checker found a violation, a merchant
//! endpoint was disabled. One `ops.alert` per incident: a job failing every
//! minute raises it once (a standing record written with the event, on a
//! condition), and it stands until a run goes through.

use serde_json::{Value, json};

use super::events::{self, Event};
use super::jobs::StepOutcome;
use super::store::alerts::{self, OpsIncident};
use super::tx::Tx;
use super::{Ctx, ServiceError};

/// The `ops.alert` event (its `kind` names the incident).
pub fn alert(kind: &str, message: String, details: Value) -> Event {
    Event::OpsAlert { kind: kind.to_string(), message, details }
}

/// After a scheduled job: raises an incident on its first failing run,
/// closes it on the first clean one. Errors are logged, never fail the job.
pub async fn job_ran(ctx: &Ctx, job: &str, steps: &[StepOutcome]) {
    let failed: Vec<&StepOutcome> = steps.iter().filter(|s| !s.ok).collect();
    let problem = (!failed.is_empty()).then(|| {
        let names: Vec<&str> = failed.iter().map(|s| s.name.as_str()).collect();
        let errors: serde_json::Map<String, Value> =
            failed.iter().map(|s| (s.name.clone(), json!(s.error.clone().unwrap_or_default()))).collect();
        (format!("the {job} job failed at: {}", names.join(", ")), Value::Object(errors))
    });
    if let Err(e) = incident(ctx, &format!("job:{job}"), "job_failed", problem).await {
        tracing::error!(job, error = ?e, "could not record the job's incident");
    }
}

/// After the invariant checker: raises on a violation, closes when clean.
pub async fn invariants_checked(ctx: &Ctx, violations: &[impl serde::Serialize]) {
    let problem = (!violations.is_empty()).then(|| {
        (format!("{} invariant violation(s) in stock", violations.len()), json!({ "violations": violations }))
    });
    if let Err(e) = incident(ctx, "invariants", "invariant_violation", problem).await {
        tracing::error!(error = ?e, "could not record the invariants incident");
    }
}

async fn incident(ctx: &Ctx, subject: &str, kind: &str, problem: Option<(String, Value)>) -> Result<(), ServiceError> {
    let standing = alerts::incident(ctx, subject).await?.is_some();
    let mut tx = Tx::new();
    match problem {
        Some((message, details)) if !standing => {
            let open = OpsIncident { subject: subject.to_string(), message: message.clone(), at: ctx.clock.now() };
            tx.push((), alerts::open_incident(&open)?).push((), events::record(ctx, &alert(kind, message, details))?);
        }
        None if standing => {
            tx.push((), alerts::close_incident(subject));
            tracing::info!(subject, "incident cleared");
        }
        _ => return Ok(()),
    }
    // Refused: another run opened or closed it first.
    let _ = tx.commit(ctx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::store::outbox;
    use crate::testkit::stack::embedded_ctx;

    async fn alerts(ctx: &Ctx) -> Vec<Value> {
        let all = outbox::pending(ctx, 100).read_all().await.unwrap();
        all.into_iter().filter(|e| e.kind == "ops.alert").map(|e| e.data).collect()
    }

    fn step(name: &str, error: Option<&str>) -> StepOutcome {
        StepOutcome { name: name.into(), ok: error.is_none(), error: error.map(str::to_string) }
    }

    #[tokio::test]
    async fn a_failing_job_alerts_once_until_a_clean_run() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        let failing = [step("verify_payments", None), step("release_holds", Some("store down"))];
        job_ran(&ctx, "expire", &failing).await;
        job_ran(&ctx, "expire", &failing).await;
        let got = alerts(&ctx).await;
        assert_eq!(got.len(), 1, "one alert per incident: {got:?}");
        assert_eq!(got[0]["kind"], "job_failed");
        assert_eq!(got[0]["details"]["release_holds"], "store down");
        assert!(got[0]["message"].as_str().unwrap().contains("expire job failed at: release_holds"));
        // Another job's failure is its own incident.
        job_ran(&ctx, "reconcile", &[step("repair", Some("x"))]).await;
        assert_eq!(alerts(&ctx).await.len(), 2);
        // A clean run closes it; the next failure is a new incident.
        job_ran(&ctx, "expire", &[step("verify_payments", None)]).await;
        assert!(alerts::incident(&ctx, "job:expire").await.unwrap().is_none());
        job_ran(&ctx, "expire", &failing).await;
        assert_eq!(alerts(&ctx).await.len(), 3);
    }

    #[tokio::test]
    async fn two_checks_at_once_raise_one_alert() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        let found = vec![json!({"invariant": "no_double_sale", "detail": "a.session twice"})];
        tokio::join!(invariants_checked(&ctx, &found), invariants_checked(&ctx, &found));
        let got = alerts(&ctx).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["kind"], "invariant_violation");
        assert_eq!(got[0]["details"]["violations"][0]["detail"], "a.session twice");
        invariants_checked(&ctx, &Vec::<Value>::new()).await;
        assert!(alerts::incident(&ctx, "invariants").await.unwrap().is_none());
    }
}
