//! Checkout with loyalty credits: how many, the proof they are the buyer's,
//! and an order that credits pay in full.

use super::CreditsProof;
use crate::domain::OrderStatus;
use crate::ports::{Change, Cond, Write};
use crate::services::items::{from_item, json};
use crate::services::model::{OrderRecord, PaymentRecord};
use crate::services::orders::{is_status, status_changes};
use crate::services::{Ctx, ServiceError, credits, keys, limits};

/// Checks the proof (an earlier paid order of this email, with its token) and
/// sets how many credits pay toward the order: as many as are spendable, up
/// to the price. The checkout's own commit re-checks the balance.
pub async fn apply(ctx: &Ctx, order: &mut OrderRecord, proof: &CreditsProof) -> Result<(), ServiceError> {
    let refused = || ServiceError::BadInput("credits_proof is not a paid order of this email with its token".into());
    if !ctx.settings.order_tokens().verify(&proof.order_id, &proof.order_token) {
        return Err(refused());
    }
    let earlier = ctx.records.get(&keys::order(&proof.order_id)).await?.ok_or_else(refused)?;
    let earlier: OrderRecord = from_item(earlier)?;
    // Any checkout mints an open order's token, so only an order that was
    // paid (whose token went to whoever paid it) proves the buyer.
    if earlier.email != order.email || earlier.paid_at.is_none() {
        return Err(refused());
    }
    let account = credits::account(ctx, &order.user_id).await?;
    let rules = ctx.settings.credits;
    let n = rules.to_spend(order.price.amount, account.spendable);
    if n <= 0 {
        return Err(ServiceError::InsufficientCredits(format!(
            "{} spendable credits (posted {}, pending out {}); a balance must be positive to spend",
            account.spendable, account.posted, account.pending_out
        )));
    }
    order.credits = n;
    order.credits_minor = rules.value_minor(n);
    Ok(())
}

/// Credits covered the whole price: the order is paid at once, its spend is
/// posted and it is queued for fulfilment (the paid-order sweep and the
/// credits job finish either step if this is cut short).
pub async fn paid_in_full(ctx: &Ctx, order: &mut OrderRecord) -> Result<PaymentRecord, ServiceError> {
    let id = order.order_id.clone();
    let now = ctx.clock.now();
    let mut changes = status_changes(&id, OrderStatus::Paid, now);
    changes.push(Change::Set("paid_at".into(), json(&now)));
    changes.push(Change::Set("provider_status".into(), "paid with credits".into()));
    let mut writes =
        vec![Write::Update { key: keys::order(&id), changes, cond: Some(is_status(OrderStatus::Pending)) }];
    writes.extend(limits::give_back(order));
    writes.push(Write::Update {
        key: keys::payment(&id),
        changes: vec![Change::Set("payment_id".into(), format!("credits:{id}").into())],
        cond: Some(Cond::Exists),
    });
    ctx.records.transact(writes).await?;
    order.status = OrderStatus::Paid;
    order.paid_at = Some(now);
    credits::after_payment(ctx, &id, "checkout").await;
    if let Err(e) = crate::services::fulfil::enqueue(ctx, &id).await {
        tracing::error!(order_id = %id, error = %e, "could not queue fulfilment; the sweep will");
    }
    let item = ctx
        .records
        .get(&keys::payment(&id))
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("payment record of {id} is missing")))?;
    Ok(from_item(item)?)
}
