//! Taking files back from a subscription (expiry, staff revoke, refund) with
//! the same crash safety as fulfilment: `begin` writes the intent and ends
//! the subscription (and may ride in another transaction, such as a
//! refund's); `finish` moves the files back and books them, once, however
//! often it runs. A stale intent is finished by reconcile, never undone.

use serde::Serialize;

use super::events::{self, Event};
use super::retry::{Step, retry};
use super::stock::{StockEntry, delta};
use super::store::files;
use super::store::revokes::{self, RevokeIntent};
use super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{EndReason, LedgerKind, Location, StockCounts};
use crate::ports::Write;

/// The writes of a revoke, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The intent: new at the start, marked done by the booking.
    Intent,
    /// The subscription's end, guarded by its rev.
    Subscription,
    File,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum RevokeOutcome {
    Revoked {
        files: Vec<String>,
    },
    /// It had ended before (and its files are back).
    AlreadyEnded,
}

/// The writes that end a subscription and record which files go back.
/// Fails its conditions (index 0 or 1) when the subscription already ended,
/// or changed (files or dates) since `sub` was read: the caller reads again.
pub fn begin(ctx: &Ctx, sub: &SubscriptionRecord, reason: EndReason, actor: &str) -> Result<Vec<Write>, ServiceError> {
    begin_noted(ctx, sub, reason, actor, None)
}

/// `begin`, with staff's note for the ledger reason and the owner's event.
pub fn begin_noted(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    reason: EndReason,
    actor: &str,
    note: Option<&str>,
) -> Result<Vec<Write>, ServiceError> {
    let (intent, end) = begin_parts(ctx, sub, reason, actor, note)?;
    Ok(vec![intent, end])
}

/// The intent, and the subscription's end.
fn begin_parts(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    reason: EndReason,
    actor: &str,
    note: Option<&str>,
) -> Result<(Write, Write), ServiceError> {
    let now = ctx.clock.now();
    let intent = RevokeIntent {
        subscription_id: sub.subscription_id.clone(),
        order_id: sub.order_id.clone(),
        user_id: sub.user_id.clone(),
        email: sub.email.clone(),
        files: sub.files.clone(),
        reason,
        actor: actor.to_string(),
        created_at: now,
        done: false,
        note: note.map(str::to_string),
    };
    Ok((revokes::put(&intent)?, subs::end(sub, reason)?))
}

/// Ends a subscription and gives its files back, start to finish.
pub async fn revoke(
    ctx: &Ctx,
    subscription_id: &str,
    reason: EndReason,
    actor: &str,
) -> Result<RevokeOutcome, ServiceError> {
    revoke_noted(ctx, subscription_id, reason, actor, None).await
}

/// `revoke`, with staff's note (kept only if this call ends it).
pub async fn revoke_noted(
    ctx: &Ctx,
    subscription_id: &str,
    reason: EndReason,
    actor: &str,
    note: Option<&str>,
) -> Result<RevokeOutcome, ServiceError> {
    retry(format!("subscription {subscription_id}"), || async {
        let sub = super::subscriptions::load(ctx, subscription_id).await?;
        if sub.ended.is_some() {
            return Ok(Step::Done(()));
        }
        let (intent, end) = begin_parts(ctx, &sub, reason, actor, note)?;
        let mut tx = Tx::new();
        tx.push(Part::Intent, intent).push(Part::Subscription, end);
        match tx.commit(ctx).await? {
            Commit::Done => Ok(Step::Done(())),
            // Ended or changed (a replacement file, an add-on) meanwhile:
            // read again, so the intent lists the files it has now.
            Commit::Refused(_) => Ok(Step::Again),
        }
    })
    .await?;
    ctx.faults.hit("revoke.after_begin")?;
    finish(ctx, subscription_id).await
}

/// Moves the intent's files back to stock and books them. Idempotent: the
/// moves are, and the booking is guarded by the intent's `done`.
pub async fn finish(ctx: &Ctx, subscription_id: &str) -> Result<RevokeOutcome, ServiceError> {
    let Some(intent) = revokes::get(ctx, subscription_id).await? else {
        return Ok(RevokeOutcome::AlreadyEnded);
    };
    if intent.done {
        return Ok(RevokeOutcome::AlreadyEnded);
    }
    let mut back = Vec::with_capacity(intent.files.len());
    for (n, name) in intent.files.iter().enumerate() {
        let to = destination(ctx, name).await?;
        ctx.files.move_file(&format!("assigned/{}/{name}", intent.user_id), &format!("{}/{name}", to.as_str())).await?;
        if n == 0 {
            ctx.faults.hit("revoke.after_first_move")?;
        }
        back.push((name.clone(), to));
    }
    ctx.faults.hit("revoke.after_move")?;
    book(ctx, &intent, &back).await
}

/// Where a returning file goes: banned/ when staff flagged it, else unused/.
async fn destination(ctx: &Ctx, name: &str) -> Result<Location, ServiceError> {
    let flagged = files::get(ctx, name).await?.is_some_and(|f| f.ban_on_return);
    Ok(if flagged { Location::Banned } else { Location::Unused })
}

async fn book(ctx: &Ctx, intent: &RevokeIntent, back: &[(String, Location)]) -> Result<RevokeOutcome, ServiceError> {
    let now = ctx.clock.now();
    let kind = match intent.reason {
        EndReason::Refunded => LedgerKind::Refund,
        EndReason::Expired | EndReason::Revoked => LedgerKind::Revoke,
    };
    let mut tx = Tx::new();
    tx.push(Part::Intent, revokes::done(&intent.subscription_id));
    for (name, to) in back {
        tx.push(Part::File, files::unassign(name, *to, now)?);
        let change = match to {
            Location::Banned => StockCounts { assigned: -1, banned: 1, ..StockCounts::default() },
            _ => delta(1, 0, -1),
        };
        tx.stock(StockEntry {
            kind,
            file: Some(name.clone()),
            change,
            reason: intent.note.clone().unwrap_or_else(|| format!("{:?}", intent.reason).to_lowercase()),
            reference: intent.subscription_id.clone(),
            actor: intent.actor.clone(),
        });
    }
    let event = Event::SubscriptionEnded {
        subscription_id: intent.subscription_id.clone(),
        order_id: intent.order_id.clone(),
        email: intent.email.clone(),
        reason: intent.reason,
        files: intent.files.clone(),
        note: intent.note.clone(),
    };
    tx.push(Part::Intent, events::record(ctx, &event)?);
    // Only the intent's `done` can refuse: booked by another run.
    if let Commit::Refused(_) = tx.commit(ctx).await? {
        let moved: Vec<(&str, String)> =
            back.iter().map(|(n, to)| (n.as_str(), format!("{}/{n}", to.as_str()))).collect();
        put_back_late(ctx, &moved).await?;
        return Ok(RevokeOutcome::AlreadyEnded);
    }
    tracing::info!(subscription_id = %intent.subscription_id, reason = ?intent.reason, files = back.len(), "files back in stock");
    // Stock came back: waiting backorders get their turn, oldest first.
    super::adjust::fill_waiting(ctx).await?;
    super::jobs::queue_backorders(ctx).await?;
    Ok(RevokeOutcome::Revoked { files: intent.files.clone() })
}

/// Another run booked these files first, so our moves may have come after
/// its booking, and after a claim took a file again: the same buyer's next
/// order finds it under their prefix, and our move took it out of their new
/// subscription (into unused/, where reconcile would make it stock and sell
/// it twice). Each file we moved goes where its record says, if it is not
/// there. `moved`: (file, the key our move put it at).
pub(crate) async fn put_back_late(ctx: &Ctx, moved: &[(&str, String)]) -> Result<(), ServiceError> {
    for (name, ours) in moved {
        let Some(rec) = files::get(ctx, name).await? else { continue };
        let home = rec.storage_key();
        if home != *ours && ctx.files.head(ours).await?.is_some() {
            ctx.files.move_file(ours, &home).await?;
            tracing::warn!(file = %name, from = %ours, to = %home, "a late move put back");
        }
    }
    Ok(())
}
