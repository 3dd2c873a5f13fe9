//! Subscriptions over time: ACTIVE until valid_until, GRACE for 24 hours
//! (the bot may not run, files stay), then EXPIRED with the files back in
//! stock. Reads only due subscriptions, through the valid_until index, in
//! pages. Safe to run twice at once: every step is a conditional write.

use serde::Serialize;

use super::events::{self, Event};
use super::revoke::{self, RevokeOutcome};
use super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::store::{self};
use super::{Ctx, ServiceError};
use crate::domain::{EndReason, GRACE_MILLIS, Timestamp};

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
    let mut due = subs::due(ctx, now);
    while let Some(page) = due.next_page().await? {
        for sub in page {
            if sub.ended.is_some() || sub.valid_until > now {
                continue;
            }
            if let Err(e) = step(ctx, &sub, now, &mut report).await {
                tracing::error!(subscription_id = %sub.subscription_id, error = ?e, "grace or expiry failed; the next run tries again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
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
    if !store::apply(ctx, subs::note_grace(&sub.subscription_id)).await? {
        return Ok(false);
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
