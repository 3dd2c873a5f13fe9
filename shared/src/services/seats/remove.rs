//! Removing a seat from a per-seat subscription: staff pick a file; it leaves
//! the subscription and goes back to stock with a ledger entry. Crash safe as
//! revoke is: the intent and the subscription change are one transaction,
//! then the file moves, then the booking marks the intent done; each step is
//! idempotent, and a stale intent is finished by the usage jobs.

use serde::Serialize;

use crate::domain::{FileName, LedgerKind, Location, StockCounts};
use crate::ports::Write;
use crate::services::retry::{Step, retry};
use crate::services::stock::{StockEntry, delta};
use crate::services::store::Guard;
use crate::services::store::files;
use crate::services::store::replacements as waiting;
use crate::services::store::seats::{self as intents, SeatIntent, seat_kind, seat_reason};
use crate::services::store::subscriptions::{self as subs, SubscriptionRecord};
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError, catalog, revoke, subscriptions};

/// The writes of a removal, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The start (the intent, and the subscription without the file,
    /// guarded by its rev), or the booking's marking the intent done.
    Intent,
    /// The file's record, guarded by its being assigned.
    File,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SeatRemoved)]
pub struct RemoveOutcome {
    pub subscription_id: String,
    pub file: String,
    /// Where the file went (unused, or banned when staff had flagged it).
    pub to: Location,
    /// Seats (files) left.
    pub seats: usize,
}

/// An unfinished removal older than this is finished by the usage jobs.
pub const STALE_AFTER_MILLIS: i64 = 5 * 60 * 1000;

pub async fn remove(ctx: &Ctx, id: &str, file: &str, actor: &str) -> Result<RemoveOutcome, ServiceError> {
    let file = FileName::parse(file).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let file = file.as_str();
    retry(format!("subscription {id}"), || async {
        if intents::get(ctx, id, file).await?.is_some() {
            return Ok(Step::Done(Ok(())));
        }
        let sub = subscriptions::load(ctx, id).await?;
        // Refused as asked (an ended subscription is a 409 too): no retry.
        if let Err(e) = check(ctx, &sub, file).await {
            return Ok(Step::Done(Err(e)));
        }
        let mut tx = Tx::new();
        tx.extend(Part::Intent, begin(ctx, &sub, file, actor)?);
        match tx.commit(ctx).await? {
            Commit::Done => {
                ctx.faults.hit("seats.after_begin")?;
                Ok(Step::Done(Ok(())))
            }
            // Begun by a concurrent request, or the subscription moved: look again.
            Commit::Refused(_) => Ok(Step::Again),
        }
    })
    .await??;
    finish(ctx, id, file).await
}

async fn check(ctx: &Ctx, sub: &SubscriptionRecord, file: &str) -> Result<(), ServiceError> {
    if sub.ended.is_some() {
        return Err(ServiceError::Conflict(format!("subscription {} has ended", sub.subscription_id)));
    }
    let plan = catalog::get(ctx, &sub.product_id).await?;
    if plan.is_none_or(|p| p.seat_price.is_none()) {
        return Err(ServiceError::BadInput(format!("plan {} is not priced per seat", sub.product_id)));
    }
    if !sub.files.iter().any(|f| f == file) {
        return Err(ServiceError::NotFound(format!("{file} is not a seat of {}", sub.subscription_id)));
    }
    if sub.files.len() <= 1 {
        return Err(ServiceError::BadInput("a subscription keeps at least one seat".into()));
    }
    Ok(())
}

fn begin(ctx: &Ctx, sub: &SubscriptionRecord, file: &str, actor: &str) -> Result<Vec<Write>, ServiceError> {
    take_back_writes(ctx, sub, &[file.to_string()], (seat_kind(), &seat_reason()), actor)
}

/// The writes that take `files` out of a live subscription (one intent per
/// file, then the subscription without them), booked as `kind` with
/// `reason` when `finish_all` moves them. A flagged file among them stops
/// waiting for its replacement (it has left; it still goes to banned/).
/// They fail their conditions if the subscription ended or changed since
/// `sub` was read: read again.
pub fn take_back_writes(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    files: &[String],
    (kind, reason): (LedgerKind, &str),
    actor: &str,
) -> Result<Vec<Write>, ServiceError> {
    let now = ctx.clock.now();
    let id = &sub.subscription_id;
    let mut writes = Vec::with_capacity(files.len() + 1);
    for file in files {
        let intent = SeatIntent {
            subscription_id: id.clone(),
            user_id: sub.user_id.clone(),
            file: file.clone(),
            actor: actor.to_string(),
            created_at: now,
            done: false,
            kind,
            reason: reason.to_string(),
        };
        writes.push(intents::put(&intent)?);
    }
    let left: Vec<String> = sub.files.iter().filter(|f| !files.contains(f)).cloned().collect();
    let (leaving, flagged): (Vec<String>, Vec<String>) = sub.flagged.iter().cloned().partition(|f| files.contains(f));
    if leaving.is_empty() {
        writes.push(subs::set_files(sub, &left)?);
        return Ok(writes);
    }
    writes.extend(leaving.iter().map(|f| waiting::done(id, f)));
    writes.push(subs::replace_files(sub, &left, &flagged, &sub.replacements)?);
    Ok(writes)
}

/// Moves and books each of `files` taken back from `id` (idempotent; a
/// file with no take-back begun is passed over).
pub async fn finish_all(ctx: &Ctx, id: &str, files: &[String]) -> Result<(), ServiceError> {
    for file in files {
        match finish(ctx, id, file).await {
            Ok(_) | Err(ServiceError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Moves the file back and books it, once.
async fn finish(ctx: &Ctx, id: &str, file: &str) -> Result<RemoveOutcome, ServiceError> {
    let intent =
        intents::get(ctx, id, file).await?.ok_or_else(|| ServiceError::NotFound(format!("no removal of {file}")))?;
    let flagged = files::get(ctx, file).await?.is_some_and(|f| f.ban_on_return);
    let to = if flagged { Location::Banned } else { Location::Unused };
    let seats = subscriptions::load(ctx, id).await?.files.len();
    let outcome = RemoveOutcome { subscription_id: id.to_string(), file: file.to_string(), to, seats };
    if intent.done {
        return Ok(outcome);
    }
    ctx.files.move_file(&format!("assigned/{}/{file}", intent.user_id), &format!("{}/{file}", to.as_str())).await?;
    ctx.faults.hit("seats.after_move")?;
    let now = ctx.clock.now();
    let record = files::unassign(file, to, now)?.when(files::is_at(Location::Assigned)?);
    let change = match to {
        Location::Banned => StockCounts { assigned: -1, banned: 1, ..StockCounts::default() },
        _ => delta(1, 0, -1),
    };
    let entry = StockEntry {
        kind: intent.kind,
        file: Some(file.to_string()),
        change,
        reason: intent.reason.clone(),
        reference: id.to_string(),
        actor: intent.actor.clone(),
    };
    let mut tx = Tx::new();
    tx.push(Part::Intent, intents::done(id, file)).push(Part::File, record).stock(entry);
    match tx.commit(ctx).await? {
        Commit::Done => {}
        // Booked by another run first: our move may have come after that.
        Commit::Refused(Part::Intent) => {
            revoke::put_back_late(ctx, &[(file, format!("{}/{file}", to.as_str()))]).await?
        }
        // Reconcile booked the file meanwhile (storage is the truth): only close the intent.
        Commit::Refused(Part::File) => {
            let mut tx = Tx::new();
            tx.push(Part::Intent, intents::done(id, file));
            // Refused: closed by another run meanwhile.
            let _ = tx.commit(ctx).await?;
        }
    }
    tracing::info!(subscription_id = %id, file, reason = %intent.reason, "file taken back from a subscription");
    Ok(outcome)
}

/// Finishes removals left half done by a crash. Returns how many.
pub async fn finish_stale(ctx: &Ctx) -> Result<u64, ServiceError> {
    let upto = ctx.clock.now().plus_millis(-STALE_AFTER_MILLIS);
    let mut n = 0;
    // One page a run; the next run takes the rest.
    for intent in intents::begun_by(ctx, upto).next_page().await?.unwrap_or_default() {
        if !intent.done {
            finish(ctx, &intent.subscription_id, &intent.file).await?;
            n += 1;
        }
    }
    Ok(n)
}
