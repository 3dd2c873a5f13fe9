//! Money going back: the order becomes refunded and, in the same commit,
//! exactly what it bought goes back. The order that created a subscription
//! ends it (revoke intent); an add-on takes back only its files; a renewal
//! or extension takes back only its days. An unfulfilled order releases its
//! hold or hands back its half-done claim. Files then move back through
//! `revoke::finish` or `seats::finish_all`.

use serde::Serialize;

use super::items::from_item;
use super::model::{OrderRecord, Purpose, RevokeIntent, SubscriptionRecord};
use super::orders::{OrderBundle, is_status, load, status_changes};
use super::tx::{CommitError, commit};
use super::{Ctx, ServiceError, keys, revoke};
use crate::domain::{EndReason, LedgerKind, OrderStatus};
use crate::ports::records::GSI1SK;
use crate::ports::{Change, Cond, RecordError, RefundMade, Write};

/// Files that go back after a refund's commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Returning {
    /// The whole subscription ended: `revoke::finish` moves its files.
    Ended(String),
    /// Only an add-on's files leave the subscription: `seats::finish_all`.
    Files { subscription_id: String, files: Vec<String> },
}

impl Returning {
    /// Moves the files back and books them (idempotent).
    pub async fn move_back(&self, ctx: &Ctx) -> Result<revoke::RevokeOutcome, ServiceError> {
        match self {
            Returning::Ended(sid) => revoke::finish(ctx, sid).await,
            Returning::Files { subscription_id, files } => {
                super::seats::finish_all(ctx, subscription_id, files).await?;
                Ok(revoke::RevokeOutcome::Revoked { files: files.clone() })
            }
        }
    }
}

/// Commits `leading` (writes that move the order to refunded and whatever
/// the caller adds) with everything a refund must change. `Ok(Err(i))` names
/// a failed condition among `leading`; `Ok(Ok(r))` gives the files that now
/// go back, if any.
pub async fn commit_refund(
    ctx: &Ctx,
    b: &OrderBundle,
    mut leading: Vec<Write>,
    actor: &str,
) -> Result<Result<Option<Returning>, usize>, ServiceError> {
    let order = &b.order;
    let lead = leading.len();
    let mut entries = Vec::new();
    let mut ending = None;
    let sub_id = order.subscription_id.clone().unwrap_or_else(|| format!("S{}", order.order_id));
    if let Some(sid) = &order.subscription_id {
        if let Some(item) = ctx.records.get(&keys::subscription(sid)).await? {
            let sub: SubscriptionRecord = from_item(item)?;
            if sub.ended.is_none() {
                let (writes, returning) = take_back(ctx, b, &sub, actor)?;
                leading.extend(writes);
                ending = returning;
            }
        }
    } else if b.intent.as_ref().is_some_and(|i| !i.done) {
        // Claimed but not yet handed over: give the claim back.
        leading.extend(claim_back(ctx, b, actor)?);
        ending = Some(Returning::Ended(sub_id.clone()));
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

/// What a refund takes back from the live subscription its order was
/// fulfilled into: all of it only for the order that created it.
fn take_back(
    ctx: &Ctx,
    b: &OrderBundle,
    sub: &SubscriptionRecord,
    actor: &str,
) -> Result<(Vec<Write>, Option<Returning>), ServiceError> {
    let order = &b.order;
    let sid = sub.subscription_id.clone();
    let created_it = sub.order_id == order.order_id;
    match order.purpose {
        Purpose::ExtraFiles if !created_it => {
            // Its files, as its claim named them, that the subscription still has.
            let bought = b.intent.as_ref().map(|i| i.files.as_slice()).unwrap_or_default();
            let files: Vec<String> = bought.iter().filter(|f| sub.files.contains(f)).cloned().collect();
            if files.is_empty() {
                return Ok((Vec::new(), None));
            }
            let reason = format!("add-on {} refunded", order.order_id);
            let writes = super::seats::take_back_writes(ctx, sub, &files, (LedgerKind::Refund, &reason), actor)?;
            Ok((writes, Some(Returning::Files { subscription_id: sid, files })))
        }
        Purpose::Renew | Purpose::Extend if !created_it => Ok((vec![take_back_days(ctx, order, sub)], None)),
        // The order that created it (a renewal after expiry starts its own).
        _ => Ok((revoke::begin(ctx, sub, EndReason::Refunded, actor)?, Some(Returning::Ended(sid)))),
    }
}

/// A refunded renewal or extension takes back its days: never below now
/// (time already used stays used) and never later than it is, so a
/// subscription that still has time paid by other orders keeps it.
fn take_back_days(ctx: &Ctx, order: &OrderRecord, sub: &SubscriptionRecord) -> Write {
    let now = ctx.clock.now();
    let back = sub.valid_until.plus_days(-i64::from(order.validity_days));
    let until = back.max(now).min(sub.valid_until);
    Write::Update {
        key: keys::subscription(&sub.subscription_id),
        changes: vec![
            Change::Set("valid_until".into(), super::items::json(&until)),
            Change::Set(GSI1SK.into(), keys::sort_at(until, &sub.subscription_id).into()),
            Change::Set("rev".into(), (sub.rev + 1).into()),
        ],
        cond: Some(Cond::And(vec![Cond::Absent("ended".into()), Cond::eq("rev", sub.rev)])),
    }
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

/// What a refunded order may still have to send back, for a repeat that
/// finishes a cut-short first call.
fn repeat_returning(b: &OrderBundle) -> Returning {
    let order = &b.order;
    match (order.purpose, &order.subscription_id) {
        (Purpose::ExtraFiles, Some(sid)) => Returning::Files {
            subscription_id: sid.clone(),
            files: b.intent.as_ref().map(|i| i.files.clone()).unwrap_or_default(),
        },
        // Finishes whatever revoke of it was begun (idempotent; nothing if none).
        (_, sid) => Returning::Ended(sid.clone().unwrap_or_else(|| format!("S{}", order.order_id))),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundReport {
    pub order_id: String,
    pub status: OrderStatus,
    pub revoke: Option<revoke::RevokeOutcome>,
    /// How the money went back: `stripe` (refunded through Stripe's API),
    /// `by_hand` (NOWPayments has no refund API: staff send it), or
    /// `credits_only` (no money was paid). Absent on a repeat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The provider's refund id, when it made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

/// Gives the money back where the provider can (Stripe's Refunds API, with
/// an Idempotency-Key per order so a retry refunds once); otherwise says it
/// is to be done by hand. Before anything changes here: if the provider
/// refuses, the order stays as it was.
async fn give_money_back(ctx: &Ctx, b: &OrderBundle) -> Result<(String, Option<String>), ServiceError> {
    let order = &b.order;
    let due = order.amount_due();
    let payment_id = b.payment.as_ref().and_then(|p| p.payment_id.clone());
    // Credits paid it all (its payment id is then `credits:{order}`).
    let Some(payment_id) = payment_id.filter(|_| due.amount > 0) else { return Ok(("credits_only".into(), None)) };
    let key = format!("refund-{}", order.order_id);
    match ctx.gateway.refund(order.provider, &payment_id, &due, &key).await.map_err(ServiceError::ProviderDown)? {
        RefundMade::Provider(id) => Ok((order.provider.as_str().into(), Some(id))),
        RefundMade::Manual => Ok(("by_hand".into(), None)),
    }
}

/// `POST /admin/orders/{id}/refund`: gives the money back (Stripe through
/// its API; NOWPayments by hand, recorded as such) and takes back what the
/// order bought. Repeating it changes nothing.
pub async fn refund_order(ctx: &Ctx, order_id: &str, actor: &str) -> Result<RefundReport, ServiceError> {
    let mut made: Option<(String, Option<String>)> = None;
    for _ in 0..8 {
        let b = load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
        let from = b.order.status;
        if from == OrderStatus::Refunded {
            // A repeat finishes what a cut-short first call may have left:
            // the credits and the files (both idempotent).
            super::credits::on_refund(ctx, order_id, actor).await;
            let revoke =
                Some(repeat_returning(&b).move_back(ctx).await?).filter(|r| *r != revoke::RevokeOutcome::AlreadyEnded);
            return Ok(RefundReport { order_id: order_id.into(), status: from, revoke, method: None, refund_id: None });
        }
        // Money must have come in: paid, or part of it for an order that
        // then lapsed or failed.
        let received = from.is_paid()
            || from == OrderStatus::PartiallyPaid
            || b.order.received.is_some()
            || b.order.paid_at.is_some();
        if !from.can_move_to(OrderStatus::Refunded) || !received {
            return Err(ServiceError::Conflict(format!(
                "order {order_id} is {from} and no money was received for it; nothing to refund"
            )));
        }
        if made.is_none() {
            made = Some(give_money_back(ctx, &b).await?);
        }
        let (method, refund_id) = made.clone().unwrap_or_default();
        let mut changes = status_changes(order_id, OrderStatus::Refunded, ctx.clock.now());
        changes.push(Change::Set("refunded_by".into(), actor.into()));
        changes.push(Change::Set("refund_method".into(), method.clone().into()));
        if let Some(id) = &refund_id {
            changes.push(Change::Set("refund_id".into(), id.clone().into()));
        }
        let lead = vec![Write::Update { key: keys::order(order_id), changes, cond: Some(is_status(from)) }];
        match commit_refund(ctx, &b, lead, actor).await? {
            Ok(ending) => {
                ctx.faults.hit("refund.after_commit")?;
                super::credits::on_refund(ctx, order_id, actor).await;
                ctx.faults.hit("refund.after_credits")?;
                let revoke = match ending {
                    Some(r) => Some(r.move_back(ctx).await?),
                    None => None,
                };
                let status = OrderStatus::Refunded;
                let method = Some(method);
                return Ok(RefundReport { order_id: order_id.into(), status, revoke, method, refund_id });
            }
            Err(_) => continue,
        }
    }
    Err(ServiceError::Conflict(format!("order {order_id} kept changing; try again")))
}
