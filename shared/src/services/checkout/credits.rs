//! Checkout with loyalty credits: how many (the signed-in buyer's own), and
//! an order that credits pay in full.

use crate::domain::{Email, OrderStatus};
use crate::services::lifecycle::{self, Move, Moved, Part};
use crate::services::model::{OrderRecord, PaymentRecord};
use crate::services::store::orders::{self, Facts, OrderBundle};
use crate::services::{Ctx, ServiceError, credits};

/// Sets how many of the signed-in `buyer`'s credits pay toward the order:
/// as many as are spendable, up to the price. The order must be the
/// buyer's own (a renewal proved by an order token may be someone else's).
/// The checkout's own commit re-checks the balance.
pub async fn apply(ctx: &Ctx, order: &mut OrderRecord, buyer: &Email) -> Result<(), ServiceError> {
    if order.email != buyer.as_str() {
        return Err(ServiceError::NotFound(format!("credits pay only for {buyer}'s own orders and subscriptions")));
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
