//! The credits job: settles pending transfers that are due. Earned credits
//! post if their purchase is still active (else they are voided); spends
//! follow their order. Two runs at once settle each transfer once: the
//! transfer's state is the condition of every write.

use serde::Serialize;

use super::ledger::{self, Guarded, Outcome};
use super::records::TransferRecord;
use crate::domain::{Action, EntryKind, OrderStatus, TransferState};
use crate::services::store::credits as store;
use crate::services::{Ctx, ServiceError};

/// What the credits job did: pending credits whose hold ended posted (paid
/// orders) or voided (orders that failed or expired).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = CreditsPostReport)]
pub struct PostReport {
    pub scanned: u32,
    pub posted: u32,
    pub voided: u32,
    /// Settled by someone else meanwhile, or an order still open.
    pub skipped: u32,
}

pub async fn post_due(ctx: &Ctx, actor: &str) -> Result<PostReport, ServiceError> {
    let mut report = PostReport::default();
    let mut due = store::due(ctx, ctx.clock.now());
    while let Some(page) = due.next_page().await? {
        for seen in page {
            report.scanned += 1;
            let outcome = settle(ctx, &seen, actor).await?;
            match outcome {
                Some(Outcome::Wrote(EntryKind::Post)) => report.posted += 1,
                Some(Outcome::Wrote(EntryKind::Void)) => report.voided += 1,
                _ => report.skipped += 1,
            }
            if matches!(outcome, Some(Outcome::Wrote(_))) {
                ctx.faults.hit("credits.after_post")?;
            }
        }
    }
    if report.posted + report.voided > 0 {
        tracing::info!(?report, "credits job");
    }
    Ok(report)
}

/// One due transfer. The index may lag: `transition` re-reads it.
async fn settle(ctx: &Ctx, t: &TransferRecord, actor: &str) -> Result<Option<Outcome>, ServiceError> {
    if t.state != TransferState::Pending || t.due_at.is_none_or(|d| d > ctx.clock.now()) {
        return Ok(None);
    }
    let status = match &t.order_id {
        Some(o) => crate::services::orders::load(ctx, o).await?.map(|b| b.order.status),
        None => None,
    };
    let action = match (t.origin, status, &t.order_id) {
        // Still active: the purchase stands.
        (EntryKind::Earn, Some(OrderStatus::Fulfilled), _) => Action::Post,
        (EntryKind::Earn, _, _) => Action::Deactivate,
        (EntryKind::Spend, Some(s), Some(order_id)) => {
            // The order moved meanwhile: the next run (or its payment) settles it.
            return Ok(match super::spend::follow(ctx, &t.id, order_id, s, actor).await? {
                Guarded::Held(outcome) => outcome,
                Guarded::Broken => None,
            });
        }
        _ => return Ok(None),
    };
    ledger::transition(ctx, &t.id, action, actor).await
}
