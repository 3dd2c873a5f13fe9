//! The one way credits change: an entry and the account's sums in one
//! transaction, with a transfer write whose condition makes it happen once.

use super::records::{EntryRecord, TransferRecord};
use crate::domain::{Action, EntryKind, TransferState, decide, effect};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, RecordError, Write};
use crate::services::items::{from_item, json, to_item};
use crate::services::{Ctx, ServiceError, keys};

const ATTEMPTS: usize = 16;

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
    let account = Write::Update {
        key: keys::credit_account(&t.user_id),
        changes: vec![
            Change::Add("posted".into(), e.posted),
            Change::Add("pending_in".into(), e.pending_in),
            Change::Add("pending_out".into(), e.pending_out),
            Change::Add("spendable".into(), e.spendable()),
            Change::Add("version".into(), 1),
            Change::Set("user_id".into(), t.user_id.clone().into()),
            Change::Set("email".into(), t.email.clone().into()),
            Change::Set(GSI1PK.into(), keys::CREDIT_ACCOUNTS_INDEX.into()),
            Change::Set(GSI1SK.into(), t.user_id.clone().into()),
        ],
        cond: guard.then(|| Cond::Ge("spendable".into(), t.amount)),
    };
    let id = format!("{}.{}", t.id, json(&kind).as_str().unwrap_or("entry"));
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
    let item = to_item(&keys::credit_entry(&t.user_id, now, &id), &entry, None, None)?;
    Ok(vec![account, Write::Put { item, cond: Some(Cond::NotExists) }])
}

/// A new transfer and its opening entry. False when it exists already (its
/// id is derived from what it is for, so a retry finds it).
pub async fn open(ctx: &Ctx, t: &TransferRecord, guard: bool) -> Result<bool, ServiceError> {
    match ctx.records.transact(open_writes(ctx, t, guard)?).await {
        Ok(()) => Ok(true),
        Err(RecordError::ConditionFailed { index: 0, .. }) => Ok(false),
        Err(RecordError::ConditionFailed { .. }) => {
            Err(ServiceError::InsufficientCredits(format!("not enough spendable credits for {} credits", t.amount)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The writes of `open`: the transfer first (it exists already: condition
/// 0 fails), then its opening entry.
pub fn open_writes(ctx: &Ctx, t: &TransferRecord, guard: bool) -> Result<Vec<Write>, ServiceError> {
    let mut writes = vec![Write::Put { item: transfer_item(t)?, cond: Some(Cond::NotExists) }];
    writes.extend(entry_writes(ctx, t, t.origin, &t.actor, guard)?);
    Ok(writes)
}

/// The transfer's item, in the due index while pending.
pub fn transfer_item(t: &TransferRecord) -> Result<crate::ports::Item, ServiceError> {
    let gsi = match (t.state, t.due_at) {
        (TransferState::Pending, Some(due)) => Some((keys::CREDITS_DUE_INDEX.to_string(), keys::sort_at(due, &t.id))),
        _ => None,
    };
    Ok(to_item(&keys::credit_transfer(&t.id), t, gsi, None)?)
}

pub async fn load(ctx: &Ctx, id: &str) -> Result<Option<TransferRecord>, ServiceError> {
    match ctx.records.get(&keys::credit_transfer(id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Applies `action` to transfer `id` once: the transfer's state is the
/// condition, so of two racing calls one writes and the other re-reads and
/// finds nothing (or the next step, a reversal) to do.
pub async fn transition(ctx: &Ctx, id: &str, action: Action, actor: &str) -> Result<Option<Outcome>, ServiceError> {
    for _ in 0..ATTEMPTS {
        let Some(t) = load(ctx, id).await? else { return Ok(None) };
        let Some((kind, writes)) = transition_writes(ctx, &t, action, actor)? else {
            return Ok(Some(Outcome::Unchanged(t.state)));
        };
        match ctx.records.transact(writes).await {
            Ok(()) => {
                tracing::info!(transfer = id, ?kind, amount = t.amount, actor, "credit entry");
                return Ok(Some(Outcome::Wrote(kind)));
            }
            // Someone else moved it first: read again.
            Err(RecordError::ConditionFailed { index: 0, .. } | RecordError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Conflict(format!("credit transfer {id} kept changing; try again")))
}

/// The writes applying `action` to `t` as read (its state is their first
/// condition), or `None` when there is nothing to do.
pub fn transition_writes(
    ctx: &Ctx,
    t: &TransferRecord,
    action: Action,
    actor: &str,
) -> Result<Option<(EntryKind, Vec<Write>)>, ServiceError> {
    let Some((kind, state, reversed)) = decide(t.state, t.reversed, action) else { return Ok(None) };
    let mut changes = vec![Change::Set("state".into(), json(&state)), Change::Set("reversed".into(), reversed.into())];
    if state != TransferState::Pending {
        changes.push(Change::Remove(GSI1PK.into()));
        changes.push(Change::Remove(GSI1SK.into()));
    }
    let same = Cond::And(vec![Cond::Eq("state".into(), json(&t.state)), Cond::eq("reversed", t.reversed)]);
    let mut writes = vec![Write::Update { key: keys::credit_transfer(&t.id), changes, cond: Some(same) }];
    writes.extend(entry_writes(ctx, t, kind, actor, false)?);
    Ok(Some((kind, writes)))
}
