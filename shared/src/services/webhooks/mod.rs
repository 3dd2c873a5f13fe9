//! Payment events, once verified: exactly one effect per event, however often
//! and in whatever order they arrive (invariant 4), with money checked
//! (invariant 6). Only the order's own payment moves it (`stray.rs`).

mod stray;

use super::lifecycle::{self, Move, Moved, Part};
use super::retry::{Step, retry};
use super::store::orders::{self, Facts, OrderBundle};
use super::store::receipts::{self, EventRecord};
use super::{Ctx, ServiceError};
use crate::domain::{
    AmountCheck, OrderId, OrderStatus, PaymentEvent, PaymentOutcome, ProviderKind, Transition, check_amount,
};
use crate::ports::{RecordError, Write};

/// What an event did, for the log and the event record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Moved {
        from: OrderStatus,
        to: OrderStatus,
    },
    Duplicate,
    /// Verified but changes nothing (no interest, late, or stray).
    NoChange(String),
    UnknownOrder,
}

/// No read of the receipt up front: every path ends in a write conditioned
/// on its absence (refused -> `Duplicate`), or looks only when it would
/// otherwise ask the provider or fail (doubtful amounts, a mismatch).
pub async fn ingest(ctx: &Ctx, ev: &PaymentEvent) -> Result<Effect, ServiceError> {
    if ev.outcome.target().is_none() {
        return remember(ctx, ev, Effect::NoChange(format!("{} needs nothing", ev.raw_status))).await;
    }
    if ev.is_repeat_deposit {
        // Whatever its status: its parent's order is not its to move.
        return stray::acknowledge(ctx, ev, "a repeated deposit, not the order's own payment").await;
    }
    let Some(order_id) = ev.order_id.as_deref().and_then(|o| OrderId::parse(o).ok()) else {
        tracing::warn!(event_id = %ev.event_id, order_id = ?ev.order_id, "event for no order of ours");
        return remember(ctx, ev, Effect::UnknownOrder).await;
    };
    let Some(first) = orders::load(ctx, order_id.as_str()).await? else {
        tracing::warn!(event_id = %ev.event_id, %order_id, "event for an unknown order");
        return remember(ctx, ev, Effect::UnknownOrder).await;
    };
    if let Some(why) = stray::not_its_payment(ev, &first) {
        return stray::acknowledge(ctx, ev, &why).await;
    }
    // The price does not change, so one look decides whether to ask.
    let checked = if doubtful(ev, &first) {
        if receipts::seen(ctx, ev.provider, &ev.event_id).await? {
            return Ok(Effect::Duplicate);
        }
        Some(second_opinion(ctx, ev).await?)
    } else {
        None
    };
    let ev = checked.as_ref().unwrap_or(ev);
    let Some(target) = ev.outcome.target() else {
        return remember(ctx, ev, Effect::NoChange(format!("{} needs nothing", ev.raw_status))).await;
    };
    let first = std::sync::Mutex::new(Some(first));
    let what = format!("order {order_id}");
    retry(what, || async {
        let read = first.lock().ok().and_then(|mut f| f.take());
        let bundle = match read {
            Some(b) => b,
            None => orders::load(ctx, order_id.as_str())
                .await?
                .ok_or_else(|| ServiceError::NotFound(order_id.to_string()))?,
        };
        Ok(match apply(ctx, ev, &bundle, target).await? {
            Some(effect) => Step::Done(effect),
            None => Step::Again,
        })
    })
    .await
}

/// NOWPayments signs no timestamp and has no event id: a "finished" whose
/// money does not add up is checked with the provider before any stock moves.
fn doubtful(ev: &PaymentEvent, b: &OrderBundle) -> bool {
    ev.provider == ProviderKind::Nowpayments
        && ev.outcome == PaymentOutcome::Paid
        && matches!(check_amount(&b.order.amount_due(), ev), AmountCheck::Under { .. } | AmountCheck::Mismatch(_))
}

/// The provider's own answer for this payment, to act on instead of the
/// webhook. If the provider cannot be asked, the webhook fails (5xx) and the
/// provider delivers it again later.
async fn second_opinion(ctx: &Ctx, ev: &PaymentEvent) -> Result<PaymentEvent, ServiceError> {
    let payment_id =
        ev.payment_id.as_deref().ok_or_else(|| ServiceError::BadInput("payment without payment_id".into()))?;
    let mut fresh = ctx.gateway.lookup(ev.provider, payment_id).await.map_err(ServiceError::ProviderDown)?;
    tracing::warn!(event_id = %ev.event_id, said = %ev.raw_status, provider_says = %fresh.raw_status, "checked a doubtful payment with the provider");
    if fresh.order_id.is_none() {
        fresh.order_id = ev.order_id.clone();
    }
    Ok(fresh)
}

/// One attempt. `None` means the order changed since it was read.
async fn apply(
    ctx: &Ctx,
    ev: &PaymentEvent,
    b: &OrderBundle,
    mut target: OrderStatus,
) -> Result<Option<Effect>, ServiceError> {
    let order = &b.order;
    let mut missing = None;
    let mut overpaid = None;
    if matches!(target, OrderStatus::Paid | OrderStatus::PartiallyPaid) {
        match check_amount(&order.amount_due(), ev) {
            AmountCheck::Ok => {}
            AmountCheck::Over { excess, currency } => overpaid = Some(format!("{excess} {currency}")),
            AmountCheck::Under { missing: m, currency } => {
                target = OrderStatus::PartiallyPaid;
                missing = Some(format!("{m} {currency}"));
            }
            AmountCheck::Mismatch(why) => {
                if receipts::seen(ctx, ev.provider, &ev.event_id).await? {
                    return Ok(Some(Effect::Duplicate));
                }
                tracing::error!(order_id = %order.order_id, event_id = %ev.event_id, %why, "payment does not match the order");
                return Err(ServiceError::AmountMismatch(why));
            }
        }
    }
    let from = order.status;
    if order.status.transition(target) != Transition::Move {
        let effect = Effect::NoChange(format!("order is {from}; {} ignored", ev.raw_status));
        return remember(ctx, ev, effect).await.map(Some);
    }
    let effect = Effect::Moved { from, to: target };
    let reason = if target == OrderStatus::Refunded {
        "refunded before fulfilment".into()
    } else {
        format!("payment {}", ev.raw_status)
    };
    let mut m = Move::new(b, target, ev.provider.as_str(), reason).write(Part::Receipt, event_put(ctx, ev, &effect)?);
    m.facts = Facts {
        paid_at: (target == OrderStatus::Paid).then(|| ctx.clock.now()),
        provider_status: Some(ev.raw_status.clone()),
        missing,
        // Money that arrived is on the order, so an order that then lapses
        // shows it was paid in part (and staff may refund it).
        received: ev.received().filter(|_| matches!(target, OrderStatus::Paid | OrderStatus::PartiallyPaid)),
        overpaid,
        ..Facts::default()
    };
    match lifecycle::apply(ctx, m).await? {
        Moved::Done(_) => {
            tracing::info!(order_id = %order.order_id, event_id = %ev.event_id, %from, to = %target, "order moved");
            Ok(Some(effect))
        }
        Moved::Refused(Part::Receipt) => Ok(Some(Effect::Duplicate)),
        Moved::Refused(Part::Credits) => uncovered(ctx, ev, b).await.map(Some),
        // The order moved under us: read it again.
        Moved::Refused(_) | Moved::NotAllowed => Ok(None),
    }
}

fn event_put(ctx: &Ctx, ev: &PaymentEvent, effect: &Effect) -> Result<Write, ServiceError> {
    receipts::put(&EventRecord {
        provider: ev.provider,
        event_id: ev.event_id.clone(),
        order_id: ev.order_id.clone(),
        received_at: ctx.clock.now(),
        effect: format!("{effect:?}"),
    })
}

/// A late payment whose price counted on credits the buyer has since spent
/// (the spend was voided when the order lapsed): like a short payment, it
/// does not pay the order. Staff are told, so they can refund the money.
async fn uncovered(ctx: &Ctx, ev: &PaymentEvent, b: &OrderBundle) -> Result<Effect, ServiceError> {
    let o = &b.order;
    let effect =
        Effect::NoChange(format!("order is {}; paid late without the {} credits it counted on", o.status, o.credits));
    tracing::error!(order_id = %o.order_id, event_id = %ev.event_id, credits = o.credits, "late payment not applied: its credits are spent");
    let alert = super::ops::alert(
        "late_payment_uncovered",
        format!(
            "order {} was paid after it {}, but its {} credits were spent since: refund the payment",
            o.order_id, o.status, o.credits
        ),
        serde_json::json!({"order_id": o.order_id, "email": o.email, "credits": o.credits, "received": ev.received()}),
    );
    remember_with(ctx, ev, effect, vec![super::events::record(ctx, &alert)?]).await
}

/// Records an event that changes nothing, so its repeats are cheap.
async fn remember(ctx: &Ctx, ev: &PaymentEvent, effect: Effect) -> Result<Effect, ServiceError> {
    remember_with(ctx, ev, effect, Vec::new()).await
}

/// `remember`, with writes that commit only with the first delivery.
async fn remember_with(ctx: &Ctx, ev: &PaymentEvent, effect: Effect, also: Vec<Write>) -> Result<Effect, ServiceError> {
    let mut writes = vec![event_put(ctx, ev, &effect)?];
    writes.extend(also);
    match ctx.records.transact(writes).await {
        Ok(()) => Ok(effect),
        Err(RecordError::ConditionFailed { .. }) => Ok(Effect::Duplicate),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
