//! Subscriptions over time: ACTIVE until valid_until, GRACE for 24 hours
//! (the bot may not run, files stay), then EXPIRED with the files back in
//! stock. Reads only due subscriptions, through the valid_until index, in
//! pages. Safe to run twice at once: every step is a conditional write.

use serde::Serialize;

use super::events::{self, Event};
use super::items::from_item;
use super::model::SubscriptionRecord;
use super::revoke::{self, RevokeOutcome};
use super::{Ctx, ServiceError, keys};
use crate::domain::{EndReason, GRACE_MILLIS, Timestamp};
use crate::ports::{Change, Cond, Index, Query, RecordError};

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExpiryReport {
    pub moved_to_grace: u64,
    pub expired: u64,
    pub files_released: u64,
    /// Subscriptions whose step failed (logged); the others still moved.
    pub failed: u64,
}

pub async fn run(ctx: &Ctx) -> Result<ExpiryReport, ServiceError> {
    let now = ctx.clock.now();
    let mut report = ExpiryReport::default();
    let mut cursor = None;
    loop {
        let q =
            Query::new(Index::Gsi1, keys::SUBS_INDEX).sk(keys::up_to(keys::sort_at(now, "~"))).limit(100).after(cursor);
        let page = ctx.records.query(q).await?;
        for item in page.items {
            let sub: SubscriptionRecord = from_item(item)?;
            if sub.ended.is_some() || sub.valid_until > now {
                continue;
            }
            if let Err(e) = step(ctx, &sub, now, &mut report).await {
                tracing::error!(subscription_id = %sub.subscription_id, error = ?e, "grace or expiry failed; the next run tries again");
                report.failed += 1;
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(report),
        }
    }
}

/// Grace or expiry for one due subscription.
async fn step(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    now: Timestamp,
    report: &mut ExpiryReport,
) -> Result<(), ServiceError> {
    if now < sub.valid_until.plus_millis(GRACE_MILLIS) {
        if !sub.grace_noted && note_grace(ctx, sub).await? {
            report.moved_to_grace += 1;
        }
        return Ok(());
    }
    if let RevokeOutcome::Revoked { files } =
        revoke::revoke(ctx, &sub.subscription_id, EndReason::Expired, "expire").await?
    {
        report.expired += 1;
        report.files_released += files.len() as u64;
    }
    Ok(())
}

/// Marks the start of grace once and tells the buyer (renew now).
async fn note_grace(ctx: &Ctx, sub: &SubscriptionRecord) -> Result<bool, ServiceError> {
    let changes = vec![Change::Set("grace_noted".into(), true.into())];
    let guard =
        Cond::And(vec![Cond::Exists, Cond::Absent("ended".into()), Cond::Ne("grace_noted".into(), true.into())]);
    match ctx.records.update(&keys::subscription(&sub.subscription_id), changes, Some(guard)).await {
        Ok(_) => {}
        Err(RecordError::ConditionFailed { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let event = Event::SubscriptionGrace {
        subscription_id: sub.subscription_id.clone(),
        email: sub.email.clone(),
        valid_until: sub.valid_until.rfc3339(),
        files_return_at: sub.valid_until.plus_millis(GRACE_MILLIS).rfc3339(),
    };
    events::notify(ctx, event).await;
    Ok(true)
}
