//! Taking files back from a subscription (expiry, staff revoke, refund) with
//! the same crash safety as fulfilment: `begin` writes the intent and ends
//! the subscription (and may ride in another transaction, such as a
//! refund's); `finish` moves the files back and books them, once, however
//! often it runs. A stale intent is finished by reconcile, never undone.

use serde::Serialize;

use super::events::{self, Event};
use super::items::{from_item, json, to_item};
use super::model::{FileRecord, RevokeIntent, SubscriptionRecord};
use super::stock::{StockEntry, delta};
use super::{Ctx, ServiceError, keys};
use crate::domain::{EndReason, LedgerKind, Location, StockCounts};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Write};
use crate::services::tx::{CommitError, commit};

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
    let now = ctx.clock.now();
    let intent = RevokeIntent {
        subscription_id: sub.subscription_id.clone(),
        order_id: sub.order_id.clone(),
        user_id: sub.user_id.clone(),
        files: sub.files.clone(),
        reason,
        actor: actor.to_string(),
        created_at: now,
        done: false,
        note: note.map(str::to_string),
    };
    let gsi = (keys::INTENTS_INDEX.to_string(), keys::sort_at(now, &sub.subscription_id));
    Ok(vec![
        Write::Put {
            item: to_item(&keys::revoke_intent(&sub.subscription_id), &intent, Some(gsi), None)?,
            cond: Some(Cond::NotExists),
        },
        Write::Update {
            key: keys::subscription(&sub.subscription_id),
            changes: vec![
                Change::Set("ended".into(), json(&reason)),
                Change::Remove(GSI1PK.into()),
                Change::Remove(GSI1SK.into()),
            ],
            cond: Some(Cond::And(vec![Cond::Absent("ended".into()), Cond::eq("rev", sub.rev)])),
        },
    ])
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
    for attempt in 0.. {
        let sub = super::subscriptions::load(ctx, subscription_id).await?;
        if sub.ended.is_some() {
            break;
        }
        match ctx.records.transact(begin_noted(ctx, &sub, reason, actor, note)?).await {
            Ok(()) => break,
            // Ended or changed (a replacement file, an add-on) meanwhile:
            // read again, so the intent lists the files it has now.
            Err(crate::ports::RecordError::ConditionFailed { .. }) if attempt < 20 => {}
            Err(crate::ports::RecordError::ConditionFailed { .. }) => {
                return Err(ServiceError::Conflict(format!(
                    "subscription {subscription_id} keeps changing; try again"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    ctx.faults.hit("revoke.after_begin")?;
    finish(ctx, subscription_id).await
}

/// Moves the intent's files back to stock and books them. Idempotent: the
/// moves are, and the booking is guarded by the intent's `done`.
pub async fn finish(ctx: &Ctx, subscription_id: &str) -> Result<RevokeOutcome, ServiceError> {
    let Some(item) = ctx.records.get(&keys::revoke_intent(subscription_id)).await? else {
        return Ok(RevokeOutcome::AlreadyEnded);
    };
    let intent: RevokeIntent = from_item(item)?;
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
    let flagged = match ctx.records.get(&keys::file(name)).await? {
        Some(item) => from_item::<FileRecord>(item)?.ban_on_return,
        None => false,
    };
    Ok(if flagged { Location::Banned } else { Location::Unused })
}

async fn book(ctx: &Ctx, intent: &RevokeIntent, back: &[(String, Location)]) -> Result<RevokeOutcome, ServiceError> {
    let now = ctx.clock.now();
    let kind = match intent.reason {
        EndReason::Refunded => LedgerKind::Refund,
        EndReason::Expired | EndReason::Revoked => LedgerKind::Revoke,
    };
    let mut writes = vec![super::items::mark_done(keys::revoke_intent(&intent.subscription_id))];
    let mut entries = Vec::new();
    for (name, to) in back {
        writes.push(Write::Update {
            key: keys::file(name),
            changes: vec![
                Change::Set("location".into(), json(to)),
                Change::Remove("user_id".into()),
                Change::Remove("order_id".into()),
                Change::Set("updated_at".into(), json(&now)),
                Change::Set(GSI1PK.into(), keys::files_at(to.as_str()).into()),
                Change::Set(GSI1SK.into(), name.clone().into()),
            ],
            cond: None,
        });
        let change = match to {
            Location::Banned => StockCounts { assigned: -1, banned: 1, ..StockCounts::default() },
            _ => delta(1, 0, -1),
        };
        entries.push(StockEntry {
            kind,
            file: Some(name.clone()),
            change,
            reason: intent.note.clone().unwrap_or_else(|| format!("{:?}", intent.reason).to_lowercase()),
            reference: intent.subscription_id.clone(),
            actor: intent.actor.clone(),
        });
    }
    match commit(ctx, writes, entries, |_| Ok(())).await {
        Ok(_) => {}
        Err(CommitError::Condition(_)) => return Ok(RevokeOutcome::AlreadyEnded),
        Err(CommitError::Service(e)) => return Err(e),
    }
    tracing::info!(subscription_id = %intent.subscription_id, reason = ?intent.reason, files = back.len(), "files back in stock");
    let event = Event::SubscriptionEnded {
        subscription_id: intent.subscription_id.clone(),
        order_id: intent.order_id.clone(),
        reason: intent.reason,
        files: intent.files.clone(),
        note: intent.note.clone(),
    };
    events::notify(ctx, event).await;
    // Stock came back: waiting backorders get their turn, oldest first.
    super::jobs::queue_backorders(ctx).await?;
    Ok(RevokeOutcome::Revoked { files: intent.files.clone() })
}
