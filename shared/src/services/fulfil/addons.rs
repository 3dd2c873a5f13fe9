//! Fulfilling renewals and add-ons: more time or more files for an existing
//! subscription, each guarded by the subscription's `rev` so concurrent
//! changes never overwrite each other, and by the order's status so a retry
//! changes nothing.

use super::FulfilOutcome;
use crate::domain::{GRACE_MILLIS, OrderStatus, Timestamp};
use crate::ports::Write;
use crate::services::events::Event;
use crate::services::lifecycle::{self, Move, Moved, Part};
use crate::services::model::{IntentRecord, SubscriptionRecord};
use crate::services::retry::{Step, retry};
use crate::services::store::orders::{self, Facts, OrderBundle};
use crate::services::store::subscriptions as subs;
use crate::services::{Ctx, ServiceError, subscriptions};

/// Renewal of a live subscription, or an extension: `validity_days` more,
/// counted from valid_until (from now if it already expired).
pub async fn extend(ctx: &Ctx, b: &OrderBundle) -> Result<FulfilOutcome, ServiceError> {
    let order = &b.order;
    retry(format!("subscription for {}", order.order_id), || async {
        let Some(sub) = target(ctx, b).await? else { return stranded(ctx, b).await.map(Step::Done) };
        let now = ctx.clock.now();
        let base = if now < sub.valid_until.plus_millis(GRACE_MILLIS) { sub.valid_until } else { now };
        let until = base.plus_days(i64::from(order.validity_days));
        let renewed = Event::SubscriptionRenewed {
            subscription_id: sub.subscription_id.clone(),
            order_id: order.order_id.clone(),
            email: sub.email.clone(),
            previous_valid_until: sub.valid_until.rfc3339(),
            valid_until: until.rfc3339(),
        };
        let write = subs::set_valid_until(&sub, until)?;
        commit(ctx, b, &sub, write, None, (Vec::new(), until), Some(renewed)).await
    })
    .await
}

/// Extra files, already claimed and moved under the buyer: add them.
pub async fn add_files(ctx: &Ctx, b: &OrderBundle, intent: &IntentRecord) -> Result<FulfilOutcome, ServiceError> {
    retry(format!("subscription for {}", b.order.order_id), || async {
        let Some(sub) = target(ctx, b).await? else {
            // Ended while the add-on was paid for: the files go back.
            let now = orders::load(ctx, &b.order.order_id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(b.order.order_id.clone()))?;
            lifecycle::return_claim(ctx, &now).await?;
            return stranded(ctx, &now).await.map(Step::Done);
        };
        let mut files = sub.files.clone();
        files.extend(intent.files.iter().filter(|f| !sub.files.contains(f)).cloned());
        let write = subs::set_files(&sub, &files)?;
        let delivered = (intent.files.clone(), sub.valid_until);
        commit(ctx, b, &sub, write, Some(orders::intent_done(&b.order.order_id)), delivered, None).await
    })
    .await
}

/// The live subscription the order is for, or None if it ended.
async fn target(ctx: &Ctx, b: &OrderBundle) -> Result<Option<SubscriptionRecord>, ServiceError> {
    let id = b
        .order
        .for_subscription
        .as_deref()
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("add-on without subscription")))?;
    let sub = subscriptions::load(ctx, id).await?;
    Ok(sub.ended.is_none().then_some(sub))
}

/// Writes the subscription change and marks the order fulfilled (the
/// lifecycle adds the credit it earns). `Again` when the subscription moved
/// meanwhile.
async fn commit(
    ctx: &Ctx,
    b: &OrderBundle,
    sub: &SubscriptionRecord,
    sub_write: Write,
    extra: Option<Write>,
    delivered: (Vec<String>, Timestamp),
    notify: Option<Event>,
) -> Result<Step<FulfilOutcome>, ServiceError> {
    let order = &b.order;
    let mut m = Move::new(b, OrderStatus::Fulfilled, "fulfil", "add-on fulfilled").write(Part::Caller, sub_write);
    m.notify = notify;
    if let Some(w) = extra {
        m = m.write(Part::Caller, w);
    }
    m.facts = Facts { subscription_id: Some(sub.subscription_id.clone()), ..Facts::default() };
    m.delivered = Some(delivered);
    Ok(match lifecycle::apply(ctx, m).await? {
        Moved::Done(_) => {
            tracing::info!(order_id = %order.order_id, subscription_id = %sub.subscription_id, purpose = ?order.purpose, "add-on fulfilled");
            Step::Done(FulfilOutcome::Fulfilled { subscription_id: sub.subscription_id.clone(), files: Vec::new() })
        }
        Moved::Refused(Part::Order) | Moved::NotAllowed => Step::Done(FulfilOutcome::AlreadyDone),
        Moved::Refused(_) => Step::Again,
    })
}

/// Paid for a subscription that ended first: visible to staff and buyer as
/// backordered, with an alert to refund or re-issue; never silently lost.
async fn stranded(ctx: &Ctx, b: &OrderBundle) -> Result<FulfilOutcome, ServiceError> {
    if b.order.status == OrderStatus::Paid {
        let why = "the subscription ended before this renewal or add-on was paid; refund or re-issue";
        let mut m = Move::new(b, OrderStatus::Backordered, "fulfil", why);
        m.notify = Some(Event::OrderStranded {
            order_id: b.order.order_id.clone(),
            subscription_id: b.order.for_subscription.clone(),
            why: why.into(),
        });
        lifecycle::apply(ctx, m).await?;
    }
    Ok(FulfilOutcome::Backordered)
}
