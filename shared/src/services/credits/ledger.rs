//! The one way credits change: an entry and the account's sums in one
//! transaction, with a transfer write whose condition makes it happen once.

use super::records::{EntryRecord, TransferRecord};
use crate::domain::{Action, EntryKind, TransferState, decide, effect};
use crate::ports::{Item, Write};
use crate::services::events::{self, Event};
use crate::services::items::value;
use crate::services::retry::{Step, retry};
use crate::services::store::credits as store;
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError};

/// The writes of a credits change, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The transfer: new, or moved from the state it was read in.
    Transfer,
    /// The account's sums (refused when a spend would overdraw).
    Account,
    Entry,
    /// A check on another item the change depends on (`transition_while`).
    Guard,
}

/// What asking a transfer to change came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// This call wrote the entry.
    Wrote(EntryKind),
    /// Nothing left to do: settled (or reversed) already, by whoever won.
    Unchanged(TransferState),
}

/// The account update and entry for `kind` on `t`. `guard` refuses the
/// write when it would take the spendable balance below the amount.
pub fn entry_writes(
    ctx: &Ctx,
    t: &TransferRecord,
    kind: EntryKind,
    actor: &str,
    guard: bool,
) -> Result<Vec<Write>, ServiceError> {
    let now = ctx.clock.now();
    let e = effect(kind, t.dir, t.amount);
    let account = store::book(t, &e, guard.then_some(t.amount));
    let id = format!("{}.{}", t.id, value(&kind)?.as_str().unwrap_or("entry"));
    let entry = EntryRecord {
        id: id.clone(),
        transfer_id: t.id.clone(),
        kind,
        amount: e.shown(),
        posted: e.posted,
        pending_in: e.pending_in,
        pending_out: e.pending_out,
        reference: t.order_id.clone().unwrap_or_else(|| t.id.clone()),
        reason: t.reason.clone(),
        at: now,
        actor: actor.to_string(),
    };
    Ok(vec![account, store::put_entry(&t.user_id, &entry)?])
}

/// A new transfer and its opening entry. False when it exists already (its
/// id is derived from what it is for, so a retry finds it).
pub async fn open(ctx: &Ctx, t: &TransferRecord, guard: bool) -> Result<bool, ServiceError> {
    let mut tx = Tx::new();
    tx.push(Part::Transfer, store::put_transfer(t)?);
    tx.extend(Part::Account, entry_writes(ctx, t, t.origin, &t.actor, guard)?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok(true),
        Commit::Refused(Part::Transfer) => Ok(false),
        Commit::Refused(_) => {
            Err(ServiceError::InsufficientCredits(format!("not enough spendable credits for {} credits", t.amount)))
        }
    }
}

/// The writes of `open`: the transfer first (it exists already: condition
/// 0 fails), then its opening entry.
pub fn open_writes(ctx: &Ctx, t: &TransferRecord, guard: bool) -> Result<Vec<Write>, ServiceError> {
    let mut writes = vec![store::put_transfer(t)?];
    writes.extend(entry_writes(ctx, t, t.origin, &t.actor, guard)?);
    Ok(writes)
}

/// The transfer's item, in the due index while pending.
pub fn transfer_item(t: &TransferRecord) -> Result<Item, ServiceError> {
    store::transfer_item(t)
}

pub async fn load(ctx: &Ctx, id: &str) -> Result<Option<TransferRecord>, ServiceError> {
    store::transfer(ctx, id).await
}

/// Applies `action` to transfer `id` once: the transfer's state is the
/// condition, so of two racing calls one writes and the other re-reads and
/// finds nothing (or the next step, a reversal) to do.
pub async fn transition(ctx: &Ctx, id: &str, action: Action, actor: &str) -> Result<Option<Outcome>, ServiceError> {
    match transition_while(ctx, id, action, actor, None).await? {
        Guarded::Held(outcome) => Ok(outcome),
        Guarded::Broken => Err(ServiceError::internal(anyhow::anyhow!("credit transfer {id}: no guard, yet broken"))),
    }
}

/// How a guarded transition ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded {
    /// The guard held (or there was nothing to write): what `transition` says.
    Held(Option<Outcome>),
    /// The guarded item changed; nothing was written.
    Broken,
}

/// `transition`, committed only while `guard` (a check on another item,
/// such as the order's status the action was read from) holds.
pub async fn transition_while(
    ctx: &Ctx,
    id: &str,
    action: Action,
    actor: &str,
    guard: Option<Write>,
) -> Result<Guarded, ServiceError> {
    retry(format!("credit transfer {id}"), || async {
        let Some(t) = load(ctx, id).await? else { return Ok(Step::Done(Guarded::Held(None))) };
        let Some((kind, mv, entry)) = transition_parts(ctx, &t, action, actor)? else {
            return Ok(Step::Done(Guarded::Held(Some(Outcome::Unchanged(t.state)))));
        };
        let mut tx = Tx::new();
        tx.push(Part::Transfer, mv).extend(Part::Entry, entry).extend(Part::Guard, guard.clone());
        match tx.commit(ctx).await? {
            Commit::Done => {
                tracing::info!(transfer = id, ?kind, amount = t.amount, actor, "credit entry");
                Ok(Step::Done(Guarded::Held(Some(Outcome::Wrote(kind)))))
            }
            // Someone else moved it first: read again.
            Commit::Refused(Part::Transfer) => Ok(Step::Again),
            Commit::Refused(Part::Guard) => Ok(Step::Done(Guarded::Broken)),
            Commit::Refused(part) => Err(ServiceError::internal(anyhow::anyhow!("credit {part:?} write refused"))),
        }
    })
    .await
}

/// The writes applying `action` to `t` as read (its state is their first
/// condition), or `None` when there is nothing to do.
pub fn transition_writes(
    ctx: &Ctx,
    t: &TransferRecord,
    action: Action,
    actor: &str,
) -> Result<Option<(EntryKind, Vec<Write>)>, ServiceError> {
    Ok(transition_parts(ctx, t, action, actor)?.map(|(kind, mv, mut entry)| {
        entry.insert(0, mv);
        (kind, entry)
    }))
}

/// The transfer's move, and the entry writes it books.
fn transition_parts(
    ctx: &Ctx,
    t: &TransferRecord,
    action: Action,
    actor: &str,
) -> Result<Option<(EntryKind, Write, Vec<Write>)>, ServiceError> {
    let Some((kind, state, reversed)) = decide(t.state, t.reversed, action) else { return Ok(None) };
    let mv = store::move_transfer(t, state, reversed)?;
    let mut entry = entry_writes(ctx, t, kind, actor, false)?;
    if kind == EntryKind::Post {
        // Posted credits are the buyer's to spend: said with the posting.
        let event = Event::CreditsPosted {
            transfer_id: t.id.clone(),
            email: t.email.clone(),
            origin: t.origin,
            direction: t.dir,
            amount: t.amount,
            order_id: t.order_id.clone(),
        };
        entry.push(events::record(ctx, &event)?);
    }
    Ok(Some((kind, mv, entry)))
}
