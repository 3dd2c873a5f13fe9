//! The reset job: each usage period that has ended is closed (its totals
//! stay, for history) and the subscription's current period is opened, in
//! one transaction guarded by the old period not being closed yet, so two
//! runs at once reset it once.

use serde::Serialize;

use super::super::periods::{self, PeriodRecord, open_changes};
use crate::domain::{SubscriptionState, subscription_state};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Query, RecordError, Write};
use crate::services::items::{from_item, json};
use crate::services::{Ctx, ServiceError, keys, subscriptions};

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
        let q = Query::new(Index::Gsi1, keys::USAGE_DUE_INDEX).sk(keys::up_to(keys::sort_at(now, "~"))).limit(100);
        let page = ctx.records.query(q).await?;
        let mut progressed = false;
        for item in page.items {
            let p: PeriodRecord = from_item(item)?;
            // The index may lag: re-check what was read.
            if p.closed || p.end > now {
                continue;
            }
            let (closed, opened) = close(ctx, &p).await?;
            progressed |= closed;
            report.closed += u64::from(closed);
            report.opened += u64::from(opened);
        }
        if page.next.is_none() || !progressed {
            return Ok(report);
        }
    }
}

/// Closes period `p` and opens the current one (if the subscription is
/// live). Returns (closed by us, opened by us).
async fn close(ctx: &Ctx, p: &PeriodRecord) -> Result<(bool, bool), ServiceError> {
    let now = ctx.clock.now();
    let sub = subscriptions::load(ctx, &p.subscription_id).await?;
    let mut writes = vec![Write::Update {
        key: keys::usage_period(&p.subscription_id, p.period),
        changes: vec![
            Change::Set("closed".into(), json(&true)),
            Change::Set("closed_at".into(), json(&now)),
            Change::Remove(GSI1PK.into()),
            Change::Remove(GSI1SK.into()),
        ],
        cond: Some(Cond::And(vec![Cond::Exists, Cond::Ne("closed".into(), json(&true))])),
    }];
    let state = subscription_state(sub.valid_until, sub.ended, now);
    let live = matches!(state, SubscriptionState::Active | SubscriptionState::Grace);
    let n = periods::current(ctx, &sub);
    if live && n > p.period {
        let cond = Cond::Ne("closed".into(), json(&true));
        let key = keys::usage_period(&sub.subscription_id, n);
        writes.push(Write::Update { key, changes: open_changes(&sub, n), cond: Some(cond) });
    }
    let opens = writes.len() > 1;
    match ctx.records.transact(writes).await {
        Ok(()) => {
            tracing::info!(subscription_id = %p.subscription_id, period = p.period, used = p.posts, "usage period closed");
            Ok((true, opens))
        }
        Err(RecordError::ConditionFailed { .. }) | Err(RecordError::Conflict) => Ok((false, false)),
        Err(e) => Err(e.into()),
    }
}
