//! Payment events, once verified: exactly one effect per event, however often
//! and in whatever order they arrive (invariant 4), with money checked
//! (invariant 6).

use super::events::{self, Event};
use super::items::{json, to_item};
use super::model::EventRecord;
use super::orders::{OrderBundle, is_status, load, status_changes};
use super::tx::{CommitError, commit};
use super::{Ctx, ServiceError, keys};
use crate::domain::{
    AmountCheck, OrderId, OrderStatus, PaymentEvent, PaymentOutcome, ProviderKind, Transition, check_amount,
};
use crate::ports::{Change, Cond, RecordError, Write};

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

/// How long event ids are kept for deduplication. Providers retry for days.
const EVENT_TTL_DAYS: i64 = 90;
const ATTEMPTS: usize = 8;

pub async fn ingest(ctx: &Ctx, ev: &PaymentEvent) -> Result<Effect, ServiceError> {
    let event_key = keys::webhook_event(ev.provider.as_str(), &ev.event_id);
    if ctx.records.get(&event_key).await?.is_some() {
        return Ok(Effect::Duplicate);
    }
    if ev.outcome.target().is_none() {
        return remember(ctx, ev, Effect::NoChange(format!("{} needs nothing", ev.raw_status))).await;
    }
    if ev.is_repeat_deposit && ev.outcome == PaymentOutcome::Paid {
        // A repeated deposit never hands out stock by itself; staff see it logged.
        tracing::warn!(event_id = %ev.event_id, "repeated deposit acknowledged without effect");
        return remember(ctx, ev, Effect::NoChange("repeated deposit".into())).await;
    }
    let Some(order_id) = ev.order_id.as_deref().and_then(|o| OrderId::parse(o).ok()) else {
        tracing::warn!(event_id = %ev.event_id, order_id = ?ev.order_id, "event for no order of ours");
        return remember(ctx, ev, Effect::UnknownOrder).await;
    };
    let mut checked: Option<PaymentEvent> = None;
    for _ in 0..ATTEMPTS {
        let Some(bundle) = load(ctx, order_id.as_str()).await? else {
            tracing::warn!(event_id = %ev.event_id, %order_id, "event for an unknown order");
            return remember(ctx, ev, Effect::UnknownOrder).await;
        };
        if checked.is_none() && doubtful(ev, &bundle) {
            checked = Some(second_opinion(ctx, ev).await?);
        }
        let ev = checked.as_ref().unwrap_or(ev);
        let Some(target) = ev.outcome.target() else {
            return remember(ctx, ev, Effect::NoChange(format!("{} needs nothing", ev.raw_status))).await;
        };
        match apply(ctx, ev, &bundle, target).await? {
            Some(effect) => return Ok(effect),
            None => continue, // the order moved under us: read it again
        }
    }
    Err(ServiceError::Conflict(format!("order {order_id} kept changing; the provider will retry")))
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
    let now = ctx.clock.now();
    let effect = Effect::Moved { from, to: target };
    let mut changes = status_changes(&order.order_id, target, now);
    changes.push(Change::Set("provider_status".into(), ev.raw_status.clone().into()));
    if target == OrderStatus::Paid {
        changes.push(Change::Set("paid_at".into(), json(&now)));
        changes.push(Change::Remove("missing".into()));
    }
    if let Some(m) = &missing {
        changes.push(Change::Set("missing".into(), m.clone().into()));
    }
    if let Some(over) = &overpaid {
        changes.push(Change::Set("overpaid".into(), over.clone().into()));
    }
    // Money that arrived is on the order, so an order that then lapses
    // shows it was paid in part (and staff may refund it).
    if let (Some(got), OrderStatus::Paid | OrderStatus::PartiallyPaid) = (ev.received(), target) {
        changes.push(Change::Set("received".into(), got.into()));
    }
    let mut writes = vec![
        event_put(ctx, ev, &effect)?,
        Write::Update { key: keys::order(&order.order_id), changes, cond: Some(is_status(from)) },
    ];
    if from.is_open() && !target.is_open() {
        writes.extend(super::limits::give_back(order));
    }
    let mut ending = None;
    let result = match (&b.hold, target) {
        (_, OrderStatus::Refunded) => {
            match super::refunds::commit_refund(ctx, b, writes, ev.provider.as_str()).await? {
                Ok(sub) => {
                    ending = sub;
                    Ok(())
                }
                Err(i) => Err(i),
            }
        }
        // The payment is off: give the held stock back in the same commit.
        (Some(hold), OrderStatus::Expired | OrderStatus::Failed) => {
            writes.push(Write::Delete { key: keys::hold(&order.order_id), cond: Some(Cond::Exists) });
            let reason = format!("payment {}", ev.raw_status);
            let entry = super::holds::release_entry(&order.order_id, hold.count, &reason, ev.provider.as_str());
            match commit(ctx, writes, vec![entry], |_| Ok(())).await {
                Ok(_) => Ok(()),
                Err(CommitError::Condition(i)) => Err(i),
                Err(CommitError::Service(e)) => return Err(e),
            }
        }
        _ => match ctx.records.transact(writes).await {
            Ok(()) => Ok(()),
            Err(RecordError::ConditionFailed { index, .. }) => Err(index),
            Err(e) => return Err(e.into()),
        },
    };
    match result {
        Ok(()) => {}
        Err(0) => return Ok(Some(Effect::Duplicate)),
        Err(_) => return Ok(None),
    }
    tracing::info!(order_id = %order.order_id, event_id = %ev.event_id, %from, to = %target, "order moved");
    if let Some(over) = &overpaid {
        tracing::warn!(order_id = %order.order_id, excess = %over, "overpaid");
        let event =
            Event::OrderOverpaid { order_id: order.order_id.clone(), excess: over.clone(), received: ev.received() };
        events::notify(ctx, event).await;
    }
    if target == OrderStatus::Refunded {
        ctx.faults.hit("refund.after_commit")?;
    }
    match target {
        OrderStatus::Refunded => super::credits::on_refund(ctx, &order.order_id, ev.provider.as_str()).await,
        OrderStatus::Paid | OrderStatus::Expired | OrderStatus::Failed if order.credits > 0 => {
            super::credits::after_payment(ctx, &order.order_id, ev.provider.as_str()).await
        }
        _ => {}
    }
    match ending {
        // The files go back through the queue; reconcile finishes the intent
        // if this message is lost.
        Some(super::refunds::Returning::Ended(sub)) => {
            if let Err(e) = super::jobs::enqueue_revoke(ctx, &sub).await {
                tracing::error!(subscription_id = %sub, error = %e, "could not queue the revoke; reconcile will finish it");
            }
        }
        // An add-on's files, the same way; the usage jobs finish a stale one.
        Some(super::refunds::Returning::Files { subscription_id, files }) => {
            if let Err(e) = super::jobs::enqueue_take_back(ctx, &subscription_id, &files).await {
                tracing::error!(order_id = %order.order_id, error = %e, "could not queue the add-on's take-back; the usage jobs will finish it");
            }
        }
        None => {}
    }
    if target == OrderStatus::Paid {
        // If this send is lost, the paid-order sweep queues it again.
        let sent = match ctx.faults.hit("webhook.enqueue") {
            Ok(()) => super::jobs::enqueue(ctx, &order.order_id).await,
            Err(lost) => Err(lost),
        };
        if let Err(e) = sent {
            tracing::error!(order_id = %order.order_id, error = %e, "could not queue fulfilment; the sweep will");
        }
    }
    Ok(Some(effect))
}

fn event_put(ctx: &Ctx, ev: &PaymentEvent, effect: &Effect) -> Result<Write, ServiceError> {
    let now = ctx.clock.now();
    let rec = EventRecord {
        provider: ev.provider,
        event_id: ev.event_id.clone(),
        order_id: ev.order_id.clone(),
        received_at: now,
        effect: format!("{effect:?}"),
    };
    let key = keys::webhook_event(ev.provider.as_str(), &ev.event_id);
    let ttl = now.plus_days(EVENT_TTL_DAYS).secs();
    Ok(Write::Put { item: to_item(&key, &rec, None, Some(ttl))?, cond: Some(Cond::NotExists) })
}

/// Records an event that changes nothing, so its repeats are cheap.
async fn remember(ctx: &Ctx, ev: &PaymentEvent, effect: Effect) -> Result<Effect, ServiceError> {
    match ctx.records.transact(vec![event_put(ctx, ev, &effect)?]).await {
        Ok(()) => Ok(effect),
        Err(RecordError::ConditionFailed { .. }) => Ok(Effect::Duplicate),
        Err(e) => Err(e.into()),
    }
}
