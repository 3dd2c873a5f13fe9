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
mod waiting;

pub use assigned::{By, ban_owned};
pub use intent::{AdjustIntent, finish, pending};
pub use request::{Action, AdjustRequest, FileResult, Outcome, validate};
pub use waiting::fill_waiting;

use super::retry::{Step, retry};
use super::stock::{StockEntry, add};
use super::store::Guard;
use super::store::files::{self, FileRecord, WrittenOff};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{Location, StockCounts};

/// Most files one request may name.
pub const MAX_FILES: usize = 500;

/// The writes of an adjustment, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The intent: another adjustment of the file is in flight.
    Intent,
    /// The file's record: it moved since read.
    File,
    Tombstone,
}

/// Applies the action to each file; one result per file, in order.
pub async fn adjust(ctx: &Ctx, req: &AdjustRequest, actor: &str) -> Result<Vec<FileResult>, ServiceError> {
    let names = validate(req)?;
    let reason = req.reason.trim();
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        out.push(one(ctx, req.action, name, reason, actor).await?);
    }
    if out.iter().any(|r| r.outcome == Outcome::Unfrozen) {
        fill_waiting(ctx).await?;
        super::jobs::queue_backorders(ctx).await?;
    }
    Ok(out)
}

/// Bans one (valid) file, as `adjust` would: a waiting replacement's fill.
async fn ban_file(ctx: &Ctx, name: &str, reason: &str, actor: &str) -> Result<FileResult, ServiceError> {
    one(ctx, Action::Ban, name, reason, actor).await
}

async fn one(ctx: &Ctx, action: Action, name: &str, reason: &str, actor: &str) -> Result<FileResult, ServiceError> {
    // An earlier adjustment of this file that crashed half way ends first.
    finish(ctx, name).await?;
    retry(name, || async {
        let Some(rec) = files::get(ctx, name).await? else {
            return Ok(Step::Done(FileResult::new(name, Outcome::NotFound)));
        };
        let done = match plan(action, &rec) {
            Plan::Done(r) => Some(r),
            Plan::BanAssigned => assigned::ban(ctx, &rec, reason, actor).await?,
            Plan::Move(to) => take(ctx, action, &rec, to, reason, actor).await?,
        };
        // None: raced, read again.
        Ok(done.map_or(Step::Again, Step::Done))
    })
    .await
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
    let mut tx = Tx::new();
    tx.push(Part::Intent, intent.write()?);
    match to {
        Some(loc) => tx.push(Part::File, files::relocate(name, loc, now)?.when(files::unchanged(rec)?)),
        None => {
            let tomb = WrittenOff {
                name: name.to_string(),
                was: rec.location,
                at: now,
                reason: reason.to_string(),
                actor: actor.to_string(),
            };
            tx.push(Part::File, files::delete(name).when(files::unchanged(rec)?));
            tx.push(Part::Tombstone, files::put_written_off(&tomb)?)
        }
    };
    let change = add(at(rec.location, -1), to.map(|l| at(l, 1)).unwrap_or_default());
    tx.stock(StockEntry {
        kind: action.kind(),
        file: Some(name.to_string()),
        change,
        reason: reason.to_string(),
        reference: format!("adjust:{}", intent.id),
        actor: actor.to_string(),
    });
    let from_unused = rec.location == Location::Unused;
    tx.check(move |c: &StockCounts| if from_unused { keeps_holds(c) } else { Ok(()) });
    match tx.commit(ctx).await {
        Ok(Commit::Done) => {}
        Err(ServiceError::InsufficientStock { available, .. }) => {
            let detail = format!("open checkouts hold the available stock ({available} left)");
            return Ok(Some(FileResult { detail: Some(detail), ..FileResult::new(name, Outcome::Held) }));
        }
        // Another adjustment of the file is in flight: it ends first.
        Ok(Commit::Refused(Part::Intent)) => {
            finish(ctx, name).await?;
            return Ok(None);
        }
        Ok(Commit::Refused(Part::File | Part::Tombstone)) => return Ok(None),
        Err(e) => return Err(e),
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
