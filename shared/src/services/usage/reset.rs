//! The reset job: each usage period that has ended is closed (its totals
//! stay, for history) and the subscription's current period is opened, in
//! one transaction guarded by the old period not being closed yet, so two
//! runs at once reset it once.

use serde::Serialize;

use super::super::periods::{self, PeriodRecord};
use crate::domain::{SubscriptionState, subscription_state};
use crate::services::store::usage;
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError, subscriptions};

/// The writes of a reset, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Close,
    Open,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ResetReport {
    /// Periods closed by this run.
    pub closed: u64,
    /// New periods opened (not for subscriptions that have ended).
    pub opened: u64,
}

pub async fn reset_due(ctx: &Ctx) -> Result<ResetReport, ServiceError> {
    let now = ctx.clock.now();
    let mut report = ResetReport::default();
    // Closing takes periods out of the index, so read from the start each page.
    loop {
        let mut due = usage::due(ctx, now);
        let page = due.next_page().await?.unwrap_or_default();
        let mut progressed = false;
        for p in page {
            // The index may lag: re-check what was read.
            if p.closed || p.end > now {
                continue;
            }
            let (closed, opened) = close(ctx, &p).await?;
            progressed |= closed;
            report.closed += u64::from(closed);
            report.opened += u64::from(opened);
        }
        if due.is_done() || !progressed {
            return Ok(report);
        }
    }
}

/// Closes period `p` and opens the current one (if the subscription is
/// live). Returns (closed by us, opened by us).
async fn close(ctx: &Ctx, p: &PeriodRecord) -> Result<(bool, bool), ServiceError> {
    let now = ctx.clock.now();
    let sub = subscriptions::load(ctx, &p.subscription_id).await?;
    let mut tx = Tx::new();
    tx.push(Part::Close, usage::close(p, now)?);
    let state = subscription_state(sub.valid_until, sub.ended, now);
    let live = matches!(state, SubscriptionState::Active | SubscriptionState::Grace);
    let n = periods::current(ctx, &sub);
    let opens = live && n > p.period;
    if opens {
        tx.push(Part::Open, usage::open(&sub, n)?);
    }
    match tx.commit(ctx).await {
        Ok(Commit::Done) => {
            tracing::info!(subscription_id = %p.subscription_id, period = p.period, used = p.posts, "usage period closed");
            Ok((true, opens))
        }
        // Closed by another run first, or contended: the next run looks again.
        Ok(Commit::Refused(Part::Close | Part::Open)) | Err(ServiceError::Conflict(_)) => Ok((false, false)),
        Err(e) => Err(e),
    }
}
