//! Staff stock adjustments (ban, freeze, unfreeze, write off), file by file.
//!
//! Crash safety: the staff decision is committed first, in one transaction:
//! the file's record change, its ledger entry (with reason and actor), the
//! counters and an intent (`FILE#{name}/ADJUST`, in the INTENTS index) naming
//! the storage moves still to do. Then the files move, then the intent is
//! marked done. A crash after the commit leaves the intent: the next adjust
//! of that file, or reconcile once it is stale, finishes the moves. Reconcile
//! never reverts an owned file to follow storage, and never re-adopts a
//! written-off file whose object is not deleted yet.
//!
//! Taking a file out of unused/ is refused (`held`) when open checkouts hold
//! all that is left: available = unused - reserved never goes below zero.

mod assigned;
mod intent;
mod request;

pub use intent::{AdjustIntent, finish, pending};
pub use request::{Action, AdjustRequest, FileResult, Outcome, validate};

use super::items::{from_item, json, to_item};
use super::model::FileRecord;
use super::stock::{StockEntry, add};
use super::{Ctx, ServiceError, keys};
use crate::domain::{Location, StockCounts};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Write};
use crate::services::tx::{CommitError, commit};

/// Most files one request may name.
pub const MAX_FILES: usize = 500;
const ATTEMPTS: usize = 5;

/// Applies the action to each file; one result per file, in order.
pub async fn adjust(ctx: &Ctx, req: &AdjustRequest, actor: &str) -> Result<Vec<FileResult>, ServiceError> {
    let names = validate(req)?;
    let reason = req.reason.trim();
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        out.push(one(ctx, req.action, name, reason, actor).await?);
    }
    if out.iter().any(|r| r.outcome == Outcome::Unfrozen) {
        super::jobs::queue_backorders(ctx).await?;
    }
    Ok(out)
}

async fn one(ctx: &Ctx, action: Action, name: &str, reason: &str, actor: &str) -> Result<FileResult, ServiceError> {
    // An earlier adjustment of this file that crashed half way ends first.
    finish(ctx, name).await?;
    for _ in 0..ATTEMPTS {
        let Some(item) = ctx.records.get(&keys::file(name)).await? else {
            return Ok(FileResult::new(name, Outcome::NotFound));
        };
        let rec: FileRecord = from_item(item)?;
        let to = match plan(action, &rec) {
            Plan::Done(r) => return Ok(r),
            Plan::BanAssigned => match assigned::ban(ctx, &rec, reason, actor).await? {
                Some(r) => return Ok(r),
                None => continue,
            },
            Plan::Move(to) => to,
        };
        if let Some(r) = take(ctx, action, &rec, to, reason, actor).await? {
            return Ok(r);
        }
    }
    Err(ServiceError::Conflict(format!("{name} kept changing; try again")))
}

enum Plan {
    Done(FileResult),
    /// To this location, or out of stock (write off).
    Move(Option<Location>),
    BanAssigned,
}

fn plan(action: Action, rec: &FileRecord) -> Plan {
    use Location::*;
    let name = rec.name.as_str();
    let here = rec.location;
    match (action, here) {
        (Action::Ban, Banned) | (Action::Freeze, Frozen) | (Action::Unfreeze, Unused) => {
            Plan::Done(FileResult::new(name, Outcome::Unchanged))
        }
        (Action::Ban, Assigned) => Plan::BanAssigned,
        (Action::Ban, Unused | Frozen) => Plan::Move(Some(Banned)),
        (Action::Freeze, Unused) => Plan::Move(Some(Frozen)),
        (Action::Unfreeze, Frozen) => Plan::Move(Some(Unused)),
        (Action::WriteOff, Unused | Frozen | Banned) => Plan::Move(None),
        (Action::Freeze, Banned) => Plan::Done(FileResult::refused(name, "banned files stay banned")),
        (Action::Unfreeze, _) => Plan::Done(FileResult::refused(name, format!("it is {here}, not frozen"))),
        (Action::Freeze | Action::WriteOff, Assigned) => {
            Plan::Done(FileResult::refused(name, "it is assigned; only ban applies to an assigned file"))
        }
    }
}

/// A count change of `n` at one location.
pub(super) fn at(loc: Location, n: i64) -> StockCounts {
    let mut c = StockCounts::default();
    match loc {
        Location::Unused => c.unused = n,
        Location::Assigned => c.assigned = n,
        Location::Banned => c.banned = n,
        Location::Frozen => c.frozen = n,
    }
    c
}

/// The record as it was read: any change since makes the commit fail.
pub(super) fn unchanged(rec: &FileRecord) -> Cond {
    Cond::And(vec![
        Cond::Eq("location".into(), json(&rec.location)),
        Cond::Eq("updated_at".into(), json(&rec.updated_at)),
    ])
}

pub(super) fn relocate(name: &str, to: Location, now: crate::domain::Timestamp) -> Vec<Change> {
    vec![
        Change::Set("location".into(), json(&to)),
        Change::Set("updated_at".into(), json(&now)),
        Change::Set(GSI1PK.into(), keys::files_at(to.as_str()).into()),
        Change::Set(GSI1SK.into(), name.to_string().into()),
    ]
}

/// Refuses to take the last available files from open checkouts.
pub(super) fn keeps_holds(c: &StockCounts) -> Result<(), ServiceError> {
    if c.available() < 1 {
        Err(ServiceError::InsufficientStock { available: c.available(), wanted: 1 })
    } else {
        Ok(())
    }
}

/// Moves an unassigned file (or writes it off). `None`: raced, read again.
async fn take(
    ctx: &Ctx,
    action: Action,
    rec: &FileRecord,
    to: Option<Location>,
    reason: &str,
    actor: &str,
) -> Result<Option<FileResult>, ServiceError> {
    let now = ctx.clock.now();
    let name = rec.name.as_str();
    let from_key = rec.storage_key();
    let to_key = to.map(|l| format!("{}/{name}", l.as_str()));
    let intent = AdjustIntent::new(ctx, name, action, vec![(from_key, to_key)], actor);
    let mut writes = vec![intent.write()?];
    match to {
        Some(loc) => writes.push(Write::Update {
            key: keys::file(name),
            changes: relocate(name, loc, now),
            cond: Some(unchanged(rec)),
        }),
        None => {
            writes.push(Write::Delete { key: keys::file(name), cond: Some(unchanged(rec)) });
            let tomb =
                serde_json::json!({"name": name, "was": rec.location, "at": now, "reason": reason, "actor": actor});
            writes.push(Write::Put { item: to_item(&keys::written_off(name), &tomb, None, None)?, cond: None });
        }
    }
    let change = add(at(rec.location, -1), to.map(|l| at(l, 1)).unwrap_or_default());
    let entry = StockEntry {
        kind: action.kind(),
        file: Some(name.to_string()),
        change,
        reason: reason.to_string(),
        reference: format!("adjust:{}", intent.id),
        actor: actor.to_string(),
    };
    let from_unused = rec.location == Location::Unused;
    let check = |c: &StockCounts| if from_unused { keeps_holds(c) } else { Ok(()) };
    match commit(ctx, writes, vec![entry], check).await {
        Ok(_) => {}
        Err(CommitError::Service(ServiceError::InsufficientStock { available, .. })) => {
            let detail = format!("open checkouts hold the available stock ({available} left)");
            return Ok(Some(FileResult { detail: Some(detail), ..FileResult::new(name, Outcome::Held) }));
        }
        Err(CommitError::Condition(0)) => {
            finish(ctx, name).await?;
            return Ok(None);
        }
        Err(CommitError::Condition(_)) => return Ok(None),
        Err(CommitError::Service(e)) => return Err(e),
    }
    ctx.faults.hit("adjust.after_commit")?;
    finish(ctx, name).await?;
    let outcome = match action {
        Action::Ban => Outcome::Banned,
        Action::Freeze => Outcome::Frozen,
        Action::Unfreeze => Outcome::Unfrozen,
        Action::WriteOff => Outcome::WrittenOff,
    };
    Ok(Some(FileResult::new(name, outcome)))
}
