//! Money going back: the order becomes refunded and, in the same commit, its
//! subscription ends (revoke intent), its hold is released, or its half-done
//! claim is handed back. The files then move back through `revoke::finish`.

use serde::Serialize;

use super::items::from_item;
use super::model::{RevokeIntent, SubscriptionRecord};
use super::orders::{OrderBundle, is_status, load, status_changes};
use super::stock::{CommitError, commit};
use super::{Ctx, ServiceError, keys, revoke};
use crate::domain::{EndReason, OrderStatus};
use crate::ports::{Change, Cond, RecordError, Write};

/// Commits `leading` (writes that move the order to refunded and whatever
/// the caller adds) with everything a refund must change. `Ok(Err(i))` names
/// a failed condition among `leading`; `Ok(Ok(sub))` gives the subscription
/// whose files now go back.
pub async fn commit_refund(
    ctx: &Ctx,
    b: &OrderBundle,
    mut leading: Vec<Write>,
    actor: &str,
) -> Result<Result<Option<String>, usize>, ServiceError> {
    let order = &b.order;
    let lead = leading.len();
    let mut entries = Vec::new();
    let mut ending = None;
    let sub_id = order.subscription_id.clone().unwrap_or_else(|| format!("S{}", order.order_id));
    if let Some(sid) = &order.subscription_id {
        if let Some(item) = ctx.records.get(&keys::subscription(sid)).await? {
            let sub: SubscriptionRecord = from_item(item)?;
            if sub.ended.is_none() {
                leading.extend(revoke::begin(ctx, &sub, EndReason::Refunded, actor)?);
                ending = Some(sid.clone());
            }
        }
    } else if b.intent.as_ref().is_some_and(|i| !i.done) {
        // Claimed but not yet handed over: give the claim back.
        leading.extend(claim_back(ctx, b, actor)?);
        ending = Some(sub_id.clone());
    }
    // The purchase's credits end in the same commit (see `refund_writes`).
    leading.extend(super::credits::refund_writes(ctx, order, actor).await?);
    if let Some(hold) = &b.hold {
        leading.push(Write::Delete { key: keys::hold(&order.order_id), cond: Some(Cond::Exists) });
        entries.push(super::holds::release_entry(&order.order_id, hold.count, "refunded before fulfilment", actor));
    }
    let result = if entries.is_empty() {
        match ctx.records.transact(leading).await {
            Ok(()) => Ok(()),
            Err(RecordError::ConditionFailed { index, .. }) => Err(index),
            Err(e) => return Err(e.into()),
        }
    } else {
        match commit(ctx, leading, entries, |_| Ok(())).await {
            Ok(_) => Ok(()),
            Err(CommitError::Condition(i)) => Err(i),
            Err(CommitError::Service(e)) => return Err(e),
        }
    };
    // A condition past the caller's writes means the refund raced another
    // change: the caller reads again and retries.
    Ok(result.map(|()| ending).map_err(|i| if i < lead { i } else { lead.max(1) }))
}

/// The writes that turn a refunded order's unfinished claim into a revoke
/// intent (files back to stock), keyed as its subscription would have been.
fn claim_back(ctx: &Ctx, b: &OrderBundle, actor: &str) -> Result<Vec<Write>, ServiceError> {
    let order = &b.order;
    let Some(intent) = b.intent.as_ref() else { return Ok(Vec::new()) };
    let sub_id = format!("S{}", order.order_id);
    let back = RevokeIntent {
        subscription_id: sub_id.clone(),
        order_id: order.order_id.clone(),
        user_id: intent.user_id.clone(),
        files: intent.files.clone(),
        reason: EndReason::Refunded,
        actor: actor.to_string(),
        created_at: ctx.clock.now(),
        done: false,
        note: None,
    };
    let gsi = (keys::INTENTS_INDEX.to_string(), keys::sort_at(back.created_at, &sub_id));
    Ok(vec![
        Write::Put {
            item: super::items::to_item(&keys::revoke_intent(&sub_id), &back, Some(gsi), None)?,
            cond: Some(Cond::NotExists),
        },
        super::items::mark_done(keys::intent(&order.order_id)),
    ])
}

/// Fulfilment found its order refunded after it had claimed files: hand
/// them back (whoever converts the claim first wins; the other finds it done).
pub async fn return_claim(ctx: &Ctx, b: &OrderBundle) -> Result<(), ServiceError> {
    match ctx.records.transact(claim_back(ctx, b, "fulfil")?).await {
        Ok(()) | Err(RecordError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    revoke::finish(ctx, &format!("S{}", b.order.order_id)).await.map(|_| ())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundReport {
    pub order_id: String,
    pub status: OrderStatus,
    pub revoke: Option<revoke::RevokeOutcome>,
}

/// `POST /admin/orders/{id}/refund`: records a refund made at the provider
/// and takes the files back. Repeating it changes nothing.
pub async fn refund_order(ctx: &Ctx, order_id: &str, actor: &str) -> Result<RefundReport, ServiceError> {
    for _ in 0..8 {
        let b = load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
        let from = b.order.status;
        if from == OrderStatus::Refunded {
            // A repeat finishes what a cut-short first call may have left:
            // the credits and the files (both idempotent).
            super::credits::on_refund(ctx, order_id, actor).await;
            let sid = b.order.subscription_id.clone().unwrap_or_else(|| format!("S{order_id}"));
            let revoke = match revoke::finish(ctx, &sid).await? {
                revoke::RevokeOutcome::AlreadyEnded => None,
                done => Some(done),
            };
            return Ok(RefundReport { order_id: order_id.into(), status: from, revoke });
        }
        if !from.can_move_to(OrderStatus::Refunded) {
            return Err(ServiceError::Conflict(format!(
                "order {order_id} is {from}; only paid orders can be refunded"
            )));
        }
        let mut changes = status_changes(order_id, OrderStatus::Refunded, ctx.clock.now());
        changes.push(Change::Set("refunded_by".into(), actor.into()));
        let lead = vec![Write::Update { key: keys::order(order_id), changes, cond: Some(is_status(from)) }];
        match commit_refund(ctx, &b, lead, actor).await? {
            Ok(ending) => {
                ctx.faults.hit("refund.after_commit")?;
                super::credits::on_refund(ctx, order_id, actor).await;
                ctx.faults.hit("refund.after_credits")?;
                let revoke = match ending {
                    Some(sid) => Some(revoke::finish(ctx, &sid).await?),
                    None => None,
                };
                return Ok(RefundReport { order_id: order_id.into(), status: OrderStatus::Refunded, revoke });
            }
            Err(_) => continue,
        }
    }
    Err(ServiceError::Conflict(format!("order {order_id} kept changing; try again")))
}
