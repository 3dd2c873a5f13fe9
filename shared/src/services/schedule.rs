//! Safety nets run on a timer: paid orders whose fulfilment message was lost,
//! backorders waiting for stock, and the events outbox.

use super::jobs::{self, StepOutcome, StepReport, Steps};
use super::store::orders;
use super::{Ctx, ServiceError, seats, usage};
use crate::domain::OrderStatus;

/// Unpaid orders older than this are checked with their provider.
pub const VERIFY_AFTER_MILLIS: i64 = 10 * 60 * 1000;
/// Provider look-ups per run at most (their APIs are rate limited).
pub const VERIFY_PER_RUN: usize = 20;

#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ExpireReport {
    /// Stale unpaid orders whose provider said something new.
    pub payments_verified: u64,
    pub holds_released: u32,
    pub paid_requeued: u64,
    pub moved_to_grace: u64,
    /// Buyers told their plan ends soon (72 h and 24 h before).
    pub reminded: u64,
    pub expired: u64,
    pub files_released: u64,
    /// Usage resets, seat snapshots and stale seat removals.
    pub usage: UsageJobsReport,
    /// Events the dispatcher had left in the outbox, handed on now.
    pub events_dispatched: u64,
    /// Every step, in order, and whether it went through. A failed step's
    /// counts above stay 0; the steps after it still ran.
    pub steps: Vec<StepOutcome>,
}

impl StepReport for ExpireReport {
    fn steps(&self) -> &[StepOutcome] {
        &self.steps
    }
}

/// The expiry schedule: first ask providers about stale unpaid orders (so a
/// payment that did land is not expired), then release lapsed holds, queue
/// paid orders whose fulfilment message was lost, and move subscriptions
/// into grace and out of it. Each step runs even when one before it failed
/// (the report says which did).
pub async fn expire_job(ctx: &Ctx) -> ExpireReport {
    let mut steps = Steps::default();
    let mut report = ExpireReport::default();
    let verify = async {
        ctx.faults.hit("expire.verify")?;
        verify_stale(ctx, VERIFY_AFTER_MILLIS, VERIFY_PER_RUN).await
    };
    report.payments_verified = steps.run("verify_payments", verify).await.unwrap_or(0);
    report.holds_released = steps.run("release_holds", super::holds::release_lapsed(ctx)).await.unwrap_or(0);
    if report.holds_released > 0 {
        steps.run("fill_replacements", super::adjust::fill_waiting(ctx)).await;
        steps.run("queue_backorders", jobs::queue_backorders(ctx)).await;
    }
    report.paid_requeued = steps.run("requeue_paid", jobs::requeue_paid(ctx)).await.unwrap_or(0);
    // One subscription that cannot be revoked does not hold up the others.
    match super::expiry::run(ctx).await {
        Ok(subs) => {
            steps.items("grace_and_expiry", subs.failed, "subscriptions");
            report.moved_to_grace = subs.moved_to_grace;
            report.reminded = subs.reminded;
            report.expired = subs.expired;
            report.files_released = subs.files_released;
        }
        Err(e) => steps.failed("grace_and_expiry", &e),
    }
    report.usage = usage_jobs(ctx).await;
    steps.items("usage", report.usage.failed.into(), "usage jobs");
    // The dispatcher's safety net: events it has not handed on by now.
    let stale = super::dispatch::dispatch_pending(ctx, super::dispatch::STALE_MILLIS);
    report.events_dispatched = steps.run("dispatch_events", stale).await.unwrap_or(0);
    report.steps = steps.finish();
    super::ops::job_ran(ctx, "expire", &report.steps).await;
    report
}

/// What one run of the delivery job did.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct DeliverReport {
    /// Merchant webhook attempts made.
    pub webhooks: super::hooks::DeliveryReport,
    /// Mails sent, retrying or failed.
    pub mail: super::mail::MailReport,
    pub steps: Vec<StepOutcome>,
}

impl StepReport for DeliverReport {
    fn steps(&self) -> &[StepOutcome] {
        &self.steps
    }
}

/// The delivery job, every minute (the local stack's dispatcher runs the
/// same two steps every second): merchant webhook attempts and mails that
/// are due, first tries and retries. Its own job, apart from expiry, so
/// only its function may send mail (SES) and retries keep their delays.
/// A receiver or an address that fails is the delivery's outcome, not the
/// job's; the job fails when storage does (the due work cannot be read, or
/// an outcome cannot be recorded).
pub async fn deliver_job(ctx: &Ctx) -> DeliverReport {
    let mut steps = Steps::default();
    let mut report = DeliverReport::default();
    if let Some(r) = steps.run("deliver_webhooks", super::hooks::deliver_due(ctx)).await {
        steps.items("record_webhooks", r.errors.into(), "delivery outcomes");
        report.webhooks = r;
    }
    if let Some(r) = steps.run("send_mail", super::mail::send_due(ctx)).await {
        steps.items("record_mail", r.errors.into(), "mail outcomes");
        report.mail = r;
    }
    report.steps = steps.finish();
    super::ops::job_ran(ctx, "deliver", &report.steps).await;
    report
}

/// What the usage jobs did in one run of the expiry schedule.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
#[schema(as = JobsReport)]
pub struct UsageJobsReport {
    pub reset: usage::ResetReport,
    pub seats: seats::SnapshotReport,
    pub seat_removals_finished: u64,
    /// Jobs that failed this run (logged; the next run tries again).
    pub failed: u32,
}

/// The usage jobs, run with the expiry schedule (every 15 min; the snapshot
/// records once a day). A failing one is logged and does not stop expiry.
pub async fn usage_jobs(ctx: &Ctx) -> UsageJobsReport {
    let mut report = UsageJobsReport::default();
    match usage::reset_due(ctx).await {
        Ok(r) => report.reset = r,
        Err(e) => {
            tracing::error!(error = ?e, "usage reset failed");
            report.failed += 1;
        }
    }
    match seats::snapshot(ctx).await {
        Ok(r) => report.seats = r,
        Err(e) => {
            tracing::error!(error = ?e, "seat snapshot failed");
            report.failed += 1;
        }
    }
    match seats::finish_stale(ctx).await {
        Ok(n) => report.seat_removals_finished = n,
        Err(e) => {
            tracing::error!(error = ?e, "finishing seat removals failed");
            report.failed += 1;
        }
    }
    report
}

/// Orders still unpaid long after their payment should have settled are
/// checked with the provider (at most `max` a run, oldest first), and what it
/// says is applied like a webhook. Returns how many changed.
pub async fn verify_stale(ctx: &Ctx, older_than_millis: i64, max: usize) -> Result<u64, ServiceError> {
    let cutoff = ctx.clock.now().plus_millis(-older_than_millis);
    let mut changed = 0;
    let mut asked = 0;
    for status in [OrderStatus::Confirming, OrderStatus::Pending, OrderStatus::PartiallyPaid] {
        let page = max.saturating_sub(asked).max(1);
        let Some(stale) = orders::with_status(ctx, status, Some(cutoff), page).next_page().await? else { continue };
        for order in stale {
            if asked >= max {
                return Ok(changed);
            }
            let Some(bundle) = orders::load(ctx, &order.order_id).await? else { continue };
            let Some(payment_id) = bundle.payment.and_then(|p| p.payment_id) else { continue };
            asked += 1;
            let mut ev = match ctx.gateway.lookup(order.provider, &payment_id).await {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::warn!(order_id = %order.order_id, error = %e, "could not check a stale order");
                    continue;
                }
            };
            ev.order_id = Some(order.order_id.clone());
            if let super::webhooks::Effect::Moved { .. } = super::webhooks::ingest(ctx, &ev).await? {
                changed += 1;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::adapters::embedded::open_embedded;
    use crate::ports::clock::OffsetClock;
    use crate::services::fulfil::{FulfilOutcome, handle};
    use crate::testkit::stack::{local_ctx, paid_order};

    #[tokio::test]
    async fn a_failing_step_skips_nothing_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(OffsetClock::default());
        let b = open_embedded(dir.path(), clock.clone()).unwrap();
        let ctx =
            local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
        paid_order(&ctx, "bronze").await;
        let msg = ctx.fulfil_queue.receive(1, Duration::from_secs(30)).await.unwrap().remove(0);
        assert!(matches!(handle(&ctx, &msg.body).await.unwrap(), FulfilOutcome::Fulfilled { .. }));

        // Past valid_until (30 days): grace, while the first step fails.
        clock.advance(30 * 86_400 + 3600);
        ctx.faults.arm("expire.verify", 1);
        let report = expire_job(&ctx).await;
        assert_eq!(report.failed_steps(), ["verify_payments"], "{report:?}");
        assert_eq!(report.steps[0].error.as_deref(), Some("injected fault at expire.verify"));
        let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["verify_payments", "release_holds", "requeue_paid", "grace_and_expiry", "usage", "dispatch_events"]
        );
        assert_eq!(report.moved_to_grace, 1, "{report:?}");

        // Past grace: expiry, again with the first step failing.
        clock.advance(25 * 3600);
        ctx.faults.arm("expire.verify", 1);
        let report = expire_job(&ctx).await;
        assert_eq!(report.failed_steps(), ["verify_payments"], "{report:?}");
        assert_eq!((report.expired, report.files_released), (1, 1), "{report:?}");
        assert!(report.all_ok().is_err());

        // Nothing armed: every step goes through.
        let report = expire_job(&ctx).await;
        assert!(report.failed_steps().is_empty(), "{report:?}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["steps"][0], serde_json::json!({"name": "verify_payments", "ok": true}));
    }
}
