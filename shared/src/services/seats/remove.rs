//! Removing a seat from a per-seat subscription: staff pick a file; it leaves
//! the subscription and goes back to stock with a ledger entry. Crash safe as
//! revoke is: the intent and the subscription change are one transaction,
//! then the file moves, then the booking marks the intent done; each step is
//! idempotent, and a stale intent is finished by the usage jobs.

use serde::{Deserialize, Serialize};

use crate::domain::{FileName, LedgerKind, Location, StockCounts, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Query, RecordError, Write};
use crate::services::items::{from_item, json, mark_done, to_item};
use crate::services::model::{FileRecord, SubscriptionRecord};
use crate::services::stock::{StockEntry, delta};
use crate::services::tx::{CommitError, commit};
use crate::services::{Ctx, ServiceError, catalog, keys, subscriptions};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SeatIntent {
    subscription_id: String,
    user_id: String,
    file: String,
    actor: String,
    created_at: Timestamp,
    done: bool,
    /// The ledger's kind and reason: a seat removed by staff, or an
    /// add-on's file taken back by its refund.
    #[serde(default = "seat_kind")]
    kind: LedgerKind,
    #[serde(default = "seat_reason")]
    reason: String,
}

fn seat_kind() -> LedgerKind {
    LedgerKind::Revoke
}

fn seat_reason() -> String {
    "seat removed".into()
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

const ATTEMPTS: usize = 8;
/// An unfinished removal older than this is finished by the usage jobs.
pub const STALE_AFTER_MILLIS: i64 = 5 * 60 * 1000;

pub async fn remove(ctx: &Ctx, id: &str, file: &str, actor: &str) -> Result<RemoveOutcome, ServiceError> {
    let file = FileName::parse(file).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let file = file.as_str();
    let key = keys::seat_removal(id, file);
    for _ in 0..ATTEMPTS {
        if ctx.records.get(&key).await?.is_some() {
            return finish(ctx, id, file).await;
        }
        let sub = subscriptions::load(ctx, id).await?;
        check(ctx, &sub, file).await?;
        match ctx.records.transact(begin(ctx, &sub, file, actor)?).await {
            Ok(()) => {
                ctx.faults.hit("seats.after_begin")?;
                return finish(ctx, id, file).await;
            }
            // Begun by a concurrent request, or the subscription moved: look again.
            Err(RecordError::ConditionFailed { .. }) | Err(RecordError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Conflict(format!("subscription {id} kept changing; try again")))
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
/// `reason` when `finish_all` moves them. They fail their conditions if the
/// subscription ended or changed since `sub` was read: read again.
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
        let gsi = (keys::SEAT_INTENTS_INDEX.to_string(), keys::sort_at(now, &format!("{id}#{file}")));
        writes.push(Write::Put {
            item: to_item(&keys::seat_removal(id, file), &intent, Some(gsi), None)?,
            cond: Some(Cond::NotExists),
        });
    }
    let left: Vec<&String> = sub.files.iter().filter(|f| !files.contains(f)).collect();
    writes.push(Write::Update {
        key: keys::subscription(id),
        changes: vec![Change::Set("files".into(), json(&left)), Change::Set("rev".into(), (sub.rev + 1).into())],
        cond: Some(Cond::And(vec![Cond::Absent("ended".into()), Cond::eq("rev", sub.rev)])),
    });
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
    let key = keys::seat_removal(id, file);
    let item = ctx.records.get(&key).await?.ok_or_else(|| ServiceError::NotFound(format!("no removal of {file}")))?;
    let intent: SeatIntent = from_item(item)?;
    let flagged = match ctx.records.get(&keys::file(file)).await? {
        Some(item) => from_item::<FileRecord>(item)?.ban_on_return,
        None => false,
    };
    let to = if flagged { Location::Banned } else { Location::Unused };
    let seats = subscriptions::load(ctx, id).await?.files.len();
    let outcome = RemoveOutcome { subscription_id: id.to_string(), file: file.to_string(), to, seats };
    if intent.done {
        return Ok(outcome);
    }
    ctx.files.move_file(&format!("assigned/{}/{file}", intent.user_id), &format!("{}/{file}", to.as_str())).await?;
    ctx.faults.hit("seats.after_move")?;
    let now = ctx.clock.now();
    let record = Write::Update {
        key: keys::file(file),
        changes: vec![
            Change::Set("location".into(), json(&to)),
            Change::Remove("user_id".into()),
            Change::Remove("order_id".into()),
            Change::Set("updated_at".into(), json(&now)),
            Change::Set(GSI1PK.into(), keys::files_at(to.as_str()).into()),
            Change::Set(GSI1SK.into(), file.to_string().into()),
        ],
        cond: Some(Cond::eq("location", json(&Location::Assigned))),
    };
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
    match commit(ctx, vec![mark_done(key.clone()), record], vec![entry], |_| Ok(())).await {
        Ok(_) | Err(CommitError::Condition(0)) => {}
        // Reconcile booked the file meanwhile (storage is the truth): only close the intent.
        Err(CommitError::Condition(_)) => match ctx.records.transact(vec![mark_done(key)]).await {
            Ok(()) | Err(RecordError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        },
        Err(CommitError::Service(e)) => return Err(e),
    }
    tracing::info!(subscription_id = %id, file, reason = %intent.reason, "file taken back from a subscription");
    Ok(outcome)
}

/// Finishes removals left half done by a crash. Returns how many.
pub async fn finish_stale(ctx: &Ctx) -> Result<u64, ServiceError> {
    let upto = keys::sort_at(ctx.clock.now().plus_millis(-STALE_AFTER_MILLIS), "~");
    let q = Query::new(Index::Gsi1, keys::SEAT_INTENTS_INDEX).sk(keys::up_to(upto)).limit(100);
    let mut n = 0;
    for item in ctx.records.query(q).await?.items {
        let intent: SeatIntent = from_item(item)?;
        if !intent.done {
            finish(ctx, &intent.subscription_id, &intent.file).await?;
            n += 1;
        }
    }
    Ok(n)
}
