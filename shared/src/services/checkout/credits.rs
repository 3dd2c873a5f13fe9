//! Checkout with loyalty credits: how many, the proof they are the buyer's,
//! and an order that credits pay in full.

use super::CreditsProof;
use crate::domain::OrderStatus;
use crate::services::lifecycle::{self, Move, Moved, Part};
use crate::services::model::{OrderRecord, PaymentRecord};
use crate::services::store::orders::{self, Facts, OrderBundle};
use crate::services::{Ctx, ServiceError, credits};

/// Checks the proof (an earlier paid order of this email, with its token) and
/// sets how many credits pay toward the order: as many as are spendable, up
/// to the price. The checkout's own commit re-checks the balance.
pub async fn apply(ctx: &Ctx, order: &mut OrderRecord, proof: &CreditsProof) -> Result<(), ServiceError> {
    let refused = || ServiceError::BadInput("credits_proof is not a paid order of this email with its token".into());
    if !ctx.settings.order_tokens().verify(&proof.order_id, &proof.order_token) {
        return Err(refused());
    }
    let earlier = orders::get(ctx, &proof.order_id).await?.ok_or_else(refused)?;
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

/// Credits covered the whole price: the order is paid at once; the
/// lifecycle posts its spend and queues it for fulfilment (the paid-order
/// sweep and the credits job finish either step if this is cut short).
pub async fn paid_in_full(ctx: &Ctx, order: &mut OrderRecord) -> Result<PaymentRecord, ServiceError> {
    let id = order.order_id.clone();
    let now = ctx.clock.now();
    let bundle = OrderBundle { order: order.clone(), payment: None, hold: None, intent: None };
    let mut m = Move::new(&bundle, OrderStatus::Paid, "checkout", "paid with credits")
        .write(Part::Caller, orders::paid_by_credits(&id));
    m.facts = Facts { paid_at: Some(now), provider_status: Some("paid with credits".into()), ..Facts::default() };
    match lifecycle::apply(ctx, m).await? {
        Moved::Done(_) => {}
        Moved::Refused(_) | Moved::NotAllowed => {
            return Err(ServiceError::internal(anyhow::anyhow!("order {id} changed before credits paid it")));
        }
    }
    order.status = OrderStatus::Paid;
    order.paid_at = Some(now);
    orders::payment(ctx, &id)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("payment record of {id} is missing")))
}
