//! Subscriptions over time: ACTIVE until valid_until, GRACE for 24 hours
//! (the bot may not run, files stay), then EXPIRED with the files back in
//! stock. Reads only due subscriptions, through the valid_until index, in
//! pages. Safe to run twice at once: every step is a conditional write.

use serde::Serialize;

use super::events::{self, Event};
use super::revoke::{self, RevokeOutcome};
use super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::tx::Tx;
use super::{Ctx, ServiceError};
use crate::domain::{EndReason, GRACE_MILLIS, Timestamp};

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExpiryReport {
    pub moved_to_grace: u64,
    pub expired: u64,
    pub files_released: u64,
    /// Buyers told their plan ends soon (72 h and 24 h before).
    #[serde(default)]
    pub reminded: u64,
    /// Subscriptions whose step failed (logged); the others still moved.
    pub failed: u64,
}

const HOUR_MILLIS: i64 = 3_600_000;

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
    remind_all(ctx, now, &mut report).await?;
    Ok(report)
}

/// Reminders go out this many hours before a plan ends, each once.
pub const REMIND_HOURS: [u32; 2] = [72, 24];

/// Tells buyers whose plan ends within 72 h (reads only those, through the
/// valid_until index). A plan found inside 24 h gets only the 24 h mail.
async fn remind_all(ctx: &Ctx, now: Timestamp, report: &mut ExpiryReport) -> Result<(), ServiceError> {
    let horizon = now.plus_millis(i64::from(REMIND_HOURS[0]) * HOUR_MILLIS);
    let mut due = subs::due(ctx, horizon);
    while let Some(page) = due.next_page().await? {
        for sub in page.iter().filter(|s| s.ended.is_none() && s.valid_until > now) {
            let left = sub.valid_until.millis() - now.millis();
            let Some(hours) = REMIND_HOURS.iter().rev().copied().find(|h| left <= i64::from(*h) * HOUR_MILLIS) else {
                continue;
            };
            if sub.reminded.is_some_and(|r| r <= hours) {
                continue;
            }
            match remind(ctx, sub, hours).await {
                Ok(sent) => report.reminded += u64::from(sent),
                Err(e) => {
                    tracing::error!(subscription_id = %sub.subscription_id, error = ?e, "reminder failed; the next run tries again");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(())
}

/// The reminder and its mark, in one commit: refused when another run sent
/// it, or the plan was renewed since read.
async fn remind(ctx: &Ctx, sub: &SubscriptionRecord, hours: u32) -> Result<bool, ServiceError> {
    let event = Event::SubscriptionExpiringSoon {
        subscription_id: sub.subscription_id.clone(),
        email: sub.email.clone(),
        product_id: sub.product_id.clone(),
        valid_until: sub.valid_until.rfc3339(),
        hours_left: hours,
    };
    let mut tx = Tx::new();
    tx.push((), subs::remind(sub, hours)).push((), events::record(ctx, &event)?);
    Ok(tx.commit(ctx).await?.is_done())
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
    let event = Event::SubscriptionGrace {
        subscription_id: sub.subscription_id.clone(),
        email: sub.email.clone(),
        valid_until: sub.valid_until.rfc3339(),
        files_return_at: sub.valid_until.plus_millis(GRACE_MILLIS).rfc3339(),
    };
    // Refused: noted by another run, which recorded the event.
    let mut tx = Tx::new();
    tx.push((), subs::note_grace(&sub.subscription_id)).push((), events::record(ctx, &event)?);
    Ok(tx.commit(ctx).await?.is_done())
}
