//! Fulfilment of paid orders (invariants 2, 3, 5). Three steps, each safe to
//! repeat, so a redelivered message finishes a half-done job:
//! 1. claim: write the intent, mark the files taken, convert the hold and
//!    write the sale ledger, in one commit (a file can be claimed only once);
//! 2. move each file `unused/` -> `assigned/{user}/` (idempotent moves);
//! 3. finish: write the subscription, mark the order fulfilled and write the
//!    credit it earns, in one transaction; a run that lost that race puts
//!    back any file its late moves took from stock (`strays`).

mod addons;
mod claim;
mod finish;
#[cfg(test)]
mod junk_tests;
mod pick;
#[cfg(test)]
mod race_tests;
mod strays;
#[cfg(test)]
mod tests;

use super::jobs::{Job, Paid};
use super::model::{IntentRecord, Purpose};
use super::orders::{OrderBundle, load};
use super::{Ctx, ServiceError};
use crate::domain::OrderStatus;
use claim::{Claim, claim};
use finish::{backorder, finish};
pub use pick::Claiming;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FulfilOutcome {
    Fulfilled {
        subscription_id: String,
        files: Vec<String>,
    },
    AlreadyDone,
    Backordered,
    /// Not (or no longer) paid: nothing to hand out.
    NotPaid(OrderStatus),
}

/// Handles one queue message body.
pub async fn handle(ctx: &Ctx, body: &str) -> Result<FulfilOutcome, ServiceError> {
    let job: Job = serde_json::from_str(body).map_err(|e| ServiceError::BadInput(format!("queue message: {e}")))?;
    match job {
        Job::Fulfil { order_id, paid } => fulfil_from(ctx, &order_id, paid.map(|p| *p)).await,
        Job::Revoke { revoke_subscription_id } => {
            super::revoke::finish(ctx, &revoke_subscription_id).await?;
            Ok(FulfilOutcome::AlreadyDone)
        }
        Job::TakeBack { take_back_subscription_id, files } => {
            super::seats::finish_all(ctx, &take_back_subscription_id, &files).await?;
            Ok(FulfilOutcome::AlreadyDone)
        }
    }
}

/// Fulfils the order. The credit it earns is written in the finishing
/// transaction, so a redelivery after a crash anywhere earns it exactly once.
pub async fn fulfil(ctx: &Ctx, order_id: &str) -> Result<FulfilOutcome, ServiceError> {
    fulfil_from(ctx, order_id, None).await
}

async fn fulfil_from(ctx: &Ctx, order_id: &str, paid: Option<Paid>) -> Result<FulfilOutcome, ServiceError> {
    let outcome = fulfil_once(ctx, order_id, paid).await?;
    if matches!(outcome, FulfilOutcome::Fulfilled { .. } | FulfilOutcome::AlreadyDone) {
        ctx.faults.hit("fulfil.after_finish")?;
    }
    Ok(outcome)
}

/// Without reading the order first when the message carries it as it was
/// paid: its claim then requires the order still paid (a status only moves
/// forward, so it is unchanged since) and unclaimed (the intent absent), as
/// a claim on a fresh read does; anything else reads it.
async fn fulfil_once(ctx: &Ctx, order_id: &str, paid: Option<Paid>) -> Result<FulfilOutcome, ServiceError> {
    if let Some(b) =
        paid.filter(carried_claims).map(|p| OrderBundle { order: p.order, payment: None, hold: p.hold, intent: None })
        && let Claim::Claimed(intent) = claim(ctx, &b, true).await?
    {
        return Box::pin(deliver(ctx, &b, intent)).await;
    }
    let bundle = load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    match bundle.order.status {
        OrderStatus::Fulfilled => return Ok(FulfilOutcome::AlreadyDone),
        OrderStatus::Paid | OrderStatus::Backordered => {}
        OrderStatus::Refunded if bundle.intent.as_ref().is_some_and(|i| !i.done) => {
            super::lifecycle::return_claim(ctx, &bundle).await?;
            return Ok(FulfilOutcome::NotPaid(OrderStatus::Refunded));
        }
        other => return Ok(FulfilOutcome::NotPaid(other)),
    }
    // A renewal of a live subscription, or an extension: no files to move.
    if bundle.order.files == 0 && matches!(bundle.order.purpose, Purpose::Renew | Purpose::Extend) {
        return addons::extend(ctx, &bundle).await;
    }
    let intent = match bundle.intent.clone() {
        Some(i) => i,
        None => match claim(ctx, &bundle, false).await? {
            Claim::Claimed(i) => i,
            Claim::Short => return backorder(ctx, &bundle).await,
            Claim::Raced => return Box::pin(fulfil_once(ctx, order_id, None)).await,
        },
    };
    // Boxed: the two paths into it would nest its future deep in callers'.
    Box::pin(deliver(ctx, &bundle, intent)).await
}

/// A paid order that claims files (not a renewal or extension) with its
/// hold: a carried "no hold" is not trusted (some moves are built without
/// reading it), so those orders are read.
fn carried_claims(p: &Paid) -> bool {
    p.order.status == OrderStatus::Paid
        && p.order.files > 0
        && !matches!(p.order.purpose, Purpose::Renew | Purpose::Extend)
        && p.hold.is_some()
}

/// Steps 2 and 3: the claimed files moved, then the finish.
async fn deliver(ctx: &Ctx, bundle: &OrderBundle, intent: IntentRecord) -> Result<FulfilOutcome, ServiceError> {
    ctx.faults.hit("fulfil.after_claim")?;
    for (n, name) in intent.files.iter().enumerate() {
        let to = format!("assigned/{}/{name}", intent.user_id);
        ctx.files.move_file(&format!("unused/{name}"), &to).await?;
        if n == 0 {
            ctx.faults.hit("fulfil.after_first_move")?;
        }
    }
    ctx.faults.hit("fulfil.after_move")?;
    let outcome = match bundle.order.purpose {
        Purpose::ExtraFiles => addons::add_files(ctx, bundle, &intent).await?,
        _ => finish(ctx, bundle, &intent).await?,
    };
    // Someone else finished or handed back the claim: our moves may have
    // landed after the files went back.
    if !matches!(outcome, FulfilOutcome::Fulfilled { .. }) {
        strays::put_back(ctx, &bundle.order, &intent).await?;
    }
    Ok(outcome)
}
