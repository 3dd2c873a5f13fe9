//! Fulfilling renewals and add-ons: more time or more files for an existing
//! subscription, each guarded by the subscription's `rev` so concurrent
//! changes never overwrite each other, and by the order's status so a retry
//! changes nothing.

use super::FulfilOutcome;
use crate::domain::{GRACE_MILLIS, OrderStatus};
use crate::ports::records::GSI1SK;
use crate::ports::{Change, Cond, RecordError, Write};
use crate::services::events::{self, Event};
use crate::services::items::json;
use crate::services::model::{IntentRecord, OrderRecord, SubscriptionRecord};
use crate::services::orders::{load, status_changes};
use crate::services::{Ctx, ServiceError, keys, subscriptions};

const ATTEMPTS: usize = 8;

/// Renewal of a live subscription, or an extension: `validity_days` more,
/// counted from valid_until (from now if it already expired).
pub async fn extend(ctx: &Ctx, order: &OrderRecord) -> Result<FulfilOutcome, ServiceError> {
    for _ in 0..ATTEMPTS {
        let Some(sub) = target(ctx, order).await? else { return stranded(ctx, order).await };
        let now = ctx.clock.now();
        let base = if now < sub.valid_until.plus_millis(GRACE_MILLIS) { sub.valid_until } else { now };
        let until = base.plus_days(i64::from(order.validity_days));
        let changes = vec![
            Change::Set("valid_until".into(), json(&until)),
            Change::Set(GSI1SK.into(), keys::sort_at(until, &sub.subscription_id).into()),
            Change::Set("grace_noted".into(), false.into()),
        ];
        match commit(ctx, order, &sub, changes, None).await? {
            Some(done) => return Ok(done),
            None => continue,
        }
    }
    Err(ServiceError::Conflict(format!("subscription for {} kept changing; will retry", order.order_id)))
}

/// Extra files, already claimed and moved under the buyer: add them.
pub async fn add_files(ctx: &Ctx, order: &OrderRecord, intent: &IntentRecord) -> Result<FulfilOutcome, ServiceError> {
    for _ in 0..ATTEMPTS {
        let Some(sub) = target(ctx, order).await? else {
            // Ended while the add-on was paid for: the files go back.
            let b = load(ctx, &order.order_id).await?.ok_or_else(|| ServiceError::NotFound(order.order_id.clone()))?;
            crate::services::refunds::return_claim(ctx, &b).await?;
            return stranded(ctx, order).await;
        };
        let mut files = sub.files.clone();
        files.extend(intent.files.iter().filter(|f| !sub.files.contains(f)).cloned());
        let changes = vec![Change::Set("files".into(), json(&files))];
        let done = crate::services::items::mark_done(keys::intent(&order.order_id));
        match commit(ctx, order, &sub, changes, Some(done)).await? {
            Some(outcome) => return Ok(outcome),
            None => continue,
        }
    }
    Err(ServiceError::Conflict(format!("subscription for {} kept changing; will retry", order.order_id)))
}

/// The live subscription the order is for, or None if it ended.
async fn target(ctx: &Ctx, order: &OrderRecord) -> Result<Option<SubscriptionRecord>, ServiceError> {
    let id = order
        .for_subscription
        .as_deref()
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("add-on without subscription")))?;
    let sub = subscriptions::load(ctx, id).await?;
    Ok(sub.ended.is_none().then_some(sub))
}

/// Writes the subscription change, marks the order fulfilled and earns its
/// credit. `None`
/// when the subscription moved meanwhile (read again).
async fn commit(
    ctx: &Ctx,
    order: &OrderRecord,
    sub: &SubscriptionRecord,
    mut changes: Vec<Change>,
    extra: Option<Write>,
) -> Result<Option<FulfilOutcome>, ServiceError> {
    changes.push(Change::Set("rev".into(), (sub.rev + 1).into()));
    let mut order_changes = status_changes(&order.order_id, OrderStatus::Fulfilled, ctx.clock.now());
    order_changes.push(Change::Set("subscription_id".into(), sub.subscription_id.clone().into()));
    let paid = Cond::In("status".into(), vec![json(&OrderStatus::Paid), json(&OrderStatus::Backordered)]);
    let mut writes = vec![
        Write::Update { key: keys::order(&order.order_id), changes: order_changes, cond: Some(paid) },
        Write::Update {
            key: keys::subscription(&sub.subscription_id),
            changes,
            cond: Some(Cond::And(vec![Cond::Absent("ended".into()), Cond::eq("rev", sub.rev)])),
        },
    ];
    writes.extend(extra);
    // The credit is earned with the fulfilment, once.
    let earn = crate::services::credits::earn_writes(ctx, order)?;
    match crate::services::credits::transact_with_earn(ctx, writes, earn).await {
        Ok(()) => {
            tracing::info!(order_id = %order.order_id, subscription_id = %sub.subscription_id, purpose = ?order.purpose, "add-on fulfilled");
            Ok(Some(FulfilOutcome::Fulfilled { subscription_id: sub.subscription_id.clone(), files: Vec::new() }))
        }
        Err(RecordError::ConditionFailed { index: 0, .. }) => Ok(Some(FulfilOutcome::AlreadyDone)),
        Err(RecordError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Paid for a subscription that ended first: visible to staff and buyer as
/// backordered, with an alert to refund or re-issue; never silently lost.
async fn stranded(ctx: &Ctx, order: &OrderRecord) -> Result<FulfilOutcome, ServiceError> {
    let changes = status_changes(&order.order_id, OrderStatus::Backordered, ctx.clock.now());
    match ctx
        .records
        .update(&keys::order(&order.order_id), changes, Some(crate::services::orders::is_status(OrderStatus::Paid)))
        .await
    {
        Ok(_) => {
            let why = "the subscription ended before this renewal or add-on was paid; refund or re-issue";
            let event = Event::OrderStranded {
                order_id: order.order_id.clone(),
                subscription_id: order.for_subscription.clone(),
                why: why.into(),
            };
            events::notify(ctx, event).await;
        }
        Err(RecordError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(FulfilOutcome::Backordered)
}
