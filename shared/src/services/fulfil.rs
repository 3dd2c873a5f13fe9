//! Fulfilment of paid orders (invariants 2, 3, 5). Three steps, each safe to
//! repeat, so a redelivered message finishes a half-done job:
//! 1. claim: write the intent, mark the files taken, convert the hold and
//!    write the sale ledger, in one commit (a file can be claimed only once);
//! 2. move each file `unused/` -> `assigned/{user}/` (idempotent moves);
//! 3. finish: write the subscription and mark the order fulfilled.

use serde::{Deserialize, Serialize};

use super::items::{from_item, json, to_item};
use super::model::{FileRecord, IntentRecord, OrderRecord, Purpose, SubscriptionRecord};
use super::orders::{OrderBundle, load, status_changes};
use super::stock::{CommitError, StockEntry, commit, delta};
use super::{Ctx, ServiceError, keys};
use crate::domain::{LedgerKind, Location, OrderStatus, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Query, RecordError, Write};

/// A job on the fulfilment queue: hand out an order's files, or take a
/// subscription's back.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Job {
    Fulfil { order_id: String },
    Revoke { revoke_subscription_id: String },
}

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

pub async fn enqueue(ctx: &Ctx, order_id: &str) -> Result<(), ServiceError> {
    send(ctx, &Job::Fulfil { order_id: order_id.to_string() }).await
}

pub async fn enqueue_revoke(ctx: &Ctx, subscription_id: &str) -> Result<(), ServiceError> {
    send(ctx, &Job::Revoke { revoke_subscription_id: subscription_id.to_string() }).await
}

async fn send(ctx: &Ctx, job: &Job) -> Result<(), ServiceError> {
    let body = serde_json::to_string(job).map_err(ServiceError::internal)?;
    Ok(ctx.fulfil_queue.send(body).await?)
}

/// Handles one queue message body.
pub async fn handle(ctx: &Ctx, body: &str) -> Result<FulfilOutcome, ServiceError> {
    let job: Job = serde_json::from_str(body).map_err(|e| ServiceError::BadInput(format!("queue message: {e}")))?;
    match job {
        Job::Fulfil { order_id } => fulfil(ctx, &order_id).await,
        Job::Revoke { revoke_subscription_id } => {
            super::revoke::finish(ctx, &revoke_subscription_id).await?;
            Ok(FulfilOutcome::AlreadyDone)
        }
    }
}

/// Fulfils the order, then writes the credit it earns (here, not inside
/// the steps, so a redelivery after a crash between the two still earns it).
pub async fn fulfil(ctx: &Ctx, order_id: &str) -> Result<FulfilOutcome, ServiceError> {
    let outcome = fulfil_once(ctx, order_id).await?;
    if matches!(outcome, FulfilOutcome::Fulfilled { .. } | FulfilOutcome::AlreadyDone) {
        ctx.faults.hit("fulfil.after_finish")?;
        if let Some(b) = load(ctx, order_id).await? {
            super::credits::earn(ctx, &b.order).await?;
        }
    }
    Ok(outcome)
}

async fn fulfil_once(ctx: &Ctx, order_id: &str) -> Result<FulfilOutcome, ServiceError> {
    let bundle = load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    match bundle.order.status {
        OrderStatus::Fulfilled => return Ok(FulfilOutcome::AlreadyDone),
        OrderStatus::Paid | OrderStatus::Backordered => {}
        OrderStatus::Refunded if bundle.intent.as_ref().is_some_and(|i| !i.done) => {
            super::refunds::return_claim(ctx, &bundle).await?;
            return Ok(FulfilOutcome::NotPaid(OrderStatus::Refunded));
        }
        other => return Ok(FulfilOutcome::NotPaid(other)),
    }
    // A renewal of a live subscription, or an extension: no files to move.
    if bundle.order.files == 0 && matches!(bundle.order.purpose, Purpose::Renew | Purpose::Extend) {
        return super::addons::extend(ctx, &bundle.order).await;
    }
    let intent = match bundle.intent.clone() {
        Some(i) => i,
        None => match claim(ctx, &bundle).await? {
            Claim::Claimed(i) => i,
            Claim::Short => return backorder(ctx, &bundle.order).await,
            Claim::Raced => return Box::pin(fulfil_once(ctx, order_id)).await,
        },
    };
    ctx.faults.hit("fulfil.after_claim")?;
    for (n, name) in intent.files.iter().enumerate() {
        let to = format!("assigned/{}/{name}", intent.user_id);
        ctx.files.move_file(&format!("unused/{name}"), &to).await?;
        if n == 0 {
            ctx.faults.hit("fulfil.after_first_move")?;
        }
    }
    ctx.faults.hit("fulfil.after_move")?;
    match bundle.order.purpose {
        Purpose::ExtraFiles => super::addons::add_files(ctx, &bundle.order, &intent).await,
        _ => finish(ctx, &bundle.order, &intent).await,
    }
}

enum Claim {
    Claimed(IntentRecord),
    /// Not enough stock for this order.
    Short,
    /// Someone else moved the order or claimed it: look again.
    Raced,
}

const CLAIM_ATTEMPTS: usize = 10;

async fn claim(ctx: &Ctx, b: &OrderBundle) -> Result<Claim, ServiceError> {
    let order = &b.order;
    let wanted = order.files as usize;
    let mut taken: Vec<String> = Vec::new();
    let mut use_hold = b.hold.is_some();
    for _ in 0..CLAIM_ATTEMPTS {
        let free = free_files(ctx, wanted + taken.len() + 5, &taken).await?;
        if free.len() < wanted {
            return Ok(Claim::Short);
        }
        let files: Vec<String> = free.into_iter().take(wanted).collect();
        let now = ctx.clock.now();
        let intent = IntentRecord {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            files: files.clone(),
            created_at: now,
            done: false,
        };
        let (writes, first_file) = claim_writes(order, &intent, use_hold, now)?;
        let entries = files
            .iter()
            .map(|f| StockEntry {
                kind: LedgerKind::Sale,
                file: Some(f.clone()),
                change: delta(-1, if use_hold { -1 } else { 0 }, 1),
                reason: format!("fulfil {}", order.product_id),
                reference: order.order_id.clone(),
                actor: "fulfil".into(),
            })
            .collect();
        // Without a hold (it lapsed before the payment landed) the order may
        // only take what nobody else holds.
        let need = if use_hold { 0 } else { wanted as i64 };
        let check = |c: &crate::domain::StockCounts| {
            if c.available() < need {
                Err(ServiceError::InsufficientStock { available: c.available(), wanted: order.files })
            } else {
                Ok(())
            }
        };
        match commit(ctx, writes, entries, check).await {
            Ok(_) => return Ok(Claim::Claimed(intent)),
            Err(CommitError::Service(ServiceError::InsufficientStock { .. })) => return Ok(Claim::Short),
            Err(CommitError::Service(e)) => return Err(e),
            Err(CommitError::Condition(0 | 1)) => return Ok(Claim::Raced),
            Err(CommitError::Condition(2)) if use_hold => use_hold = false, // the hold lapsed meanwhile
            Err(CommitError::Condition(i)) => {
                if let Some(f) = files.get(i.saturating_sub(first_file)) {
                    taken.push(f.clone());
                }
            }
        }
    }
    Err(ServiceError::Conflict(format!("could not claim files for {}; will retry", order.order_id)))
}

/// Intent (0), order guard (1), hold (2, when used), then one write per file.
fn claim_writes(
    order: &OrderRecord,
    intent: &IntentRecord,
    use_hold: bool,
    now: Timestamp,
) -> Result<(Vec<Write>, usize), ServiceError> {
    let id = &order.order_id;
    let gsi = (keys::INTENTS_INDEX.to_string(), keys::sort_at(now, id));
    let mut writes = vec![
        Write::Put { item: to_item(&keys::intent(id), intent, Some(gsi), None)?, cond: Some(Cond::NotExists) },
        Write::Check {
            key: keys::order(id),
            cond: Cond::In("status".into(), vec![json(&OrderStatus::Paid), json(&OrderStatus::Backordered)]),
        },
    ];
    if use_hold {
        writes.push(Write::Delete { key: keys::hold(id), cond: Some(Cond::Exists) });
    }
    let first_file = writes.len();
    for f in &intent.files {
        writes.push(Write::Update {
            key: keys::file(f),
            changes: vec![
                Change::Set("location".into(), json(&Location::Assigned)),
                Change::Set("user_id".into(), order.user_id.clone().into()),
                Change::Set("order_id".into(), id.clone().into()),
                Change::Set("updated_at".into(), json(&now)),
                Change::Set(GSI1PK.into(), keys::files_at("assigned").into()),
                Change::Set(GSI1SK.into(), f.clone().into()),
            ],
            cond: Some(Cond::eq("location", "unused")),
        });
    }
    Ok((writes, first_file))
}

/// Names of files the records say are in unused/, skipping `skip`.
async fn free_files(ctx: &Ctx, limit: usize, skip: &[String]) -> Result<Vec<String>, ServiceError> {
    let q = Query::new(Index::Gsi1, keys::files_at("unused")).limit(limit);
    let page = ctx.records.query(q).await?;
    let mut out = Vec::new();
    for item in page.items {
        let f: FileRecord = from_item(item)?;
        if f.location == Location::Unused && !skip.contains(&f.name) {
            out.push(f.name);
        }
    }
    Ok(out)
}

async fn finish(ctx: &Ctx, order: &OrderRecord, intent: &IntentRecord) -> Result<FulfilOutcome, ServiceError> {
    let now = ctx.clock.now();
    let paid_at = order.paid_at.unwrap_or(now);
    // Derived from the order so a retried finish writes the same subscription.
    let subscription_id = format!("S{}", order.order_id);
    let sub = SubscriptionRecord {
        subscription_id: subscription_id.clone(),
        order_id: order.order_id.clone(),
        user_id: order.user_id.clone(),
        email: order.email.clone(),
        product_id: order.product_id.clone(),
        files: intent.files.clone(),
        interval_seconds: order.interval_seconds,
        valid_until: paid_at.plus_days(i64::from(order.validity_days)),
        created_at: now,
        ended: None,
        grace_noted: false,
        rev: 0,
        flagged: Vec::new(),
    };
    let mut changes = status_changes(&order.order_id, OrderStatus::Fulfilled, now);
    changes.push(Change::Set("subscription_id".into(), subscription_id.clone().into()));
    let writes = vec![
        Write::Put {
            item: to_item(
                &keys::subscription(&subscription_id),
                &sub,
                Some((keys::SUBS_INDEX.into(), keys::sort_at(sub.valid_until, &subscription_id))),
                None,
            )?,
            cond: Some(Cond::NotExists),
        },
        Write::Update {
            key: keys::order(&order.order_id),
            changes,
            cond: Some(Cond::In("status".into(), vec![json(&OrderStatus::Paid), json(&OrderStatus::Backordered)])),
        },
        super::items::mark_done(keys::intent(&order.order_id)),
    ];
    match ctx.records.transact(writes).await {
        Ok(()) => {}
        // Done by another run, or the order was refunded meanwhile: look
        // again (a refunded order gets its claim handed back).
        Err(RecordError::ConditionFailed { .. }) => return Box::pin(fulfil_once(ctx, &order.order_id)).await,
        Err(e) => return Err(e.into()),
    }
    tracing::info!(order_id = %order.order_id, %subscription_id, files = intent.files.len(), "order fulfilled");
    super::sweeps::notify(
        ctx,
        "subscription.activated",
        serde_json::json!({
            "subscription_id": subscription_id, "order_id": order.order_id, "user_id": order.user_id,
            "files": intent.files, "interval_seconds": order.interval_seconds, "valid_until": sub.valid_until.rfc3339(),
        }),
    )
    .await;
    Ok(FulfilOutcome::Fulfilled { subscription_id, files: intent.files.clone() })
}

/// No stock for a paid order: it becomes visibly backordered, staff are
/// alerted, and it is filled when stock returns (invariant 5).
async fn backorder(ctx: &Ctx, order: &OrderRecord) -> Result<FulfilOutcome, ServiceError> {
    if order.status == OrderStatus::Paid {
        let now = ctx.clock.now();
        let changes = status_changes(&order.order_id, OrderStatus::Backordered, now);
        match ctx
            .records
            .update(&keys::order(&order.order_id), changes, Some(super::orders::is_status(OrderStatus::Paid)))
            .await
        {
            Ok(_) => {
                tracing::warn!(order_id = %order.order_id, "paid order backordered: no stock");
                super::sweeps::notify(
                    ctx,
                    "order.backordered",
                    serde_json::json!({
                        "order_id": order.order_id, "product_id": order.product_id, "files": order.files,
                    }),
                )
                .await;
            }
            Err(RecordError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(FulfilOutcome::Backordered)
}
