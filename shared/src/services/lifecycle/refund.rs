//! What a refund takes back, in the refund's own commit: exactly what the
//! order bought. The order that created a subscription ends it (revoke
//! intent; see `later.rs` for the orders that add to it); an add-on takes
//! back only its files, as replacements left them; a renewal or extension
//! only its days. An unfulfilled order hands back its half-done claim. The
//! files then move through `revoke::finish` or `seats::finish_all`.

use super::super::model::{OrderRecord, Purpose, RevokeIntent, SubscriptionRecord};
use super::super::store::orders::{self, OrderBundle};
use super::super::store::subscriptions as subs;
use super::super::tx::Tx;
use super::super::{Ctx, ServiceError, events, items, keys, revoke, seats};
use super::{Part, later};
use crate::domain::{EndReason, LedgerKind, SubscriptionId};
use crate::ports::{Cond, RecordError, Write};

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
                seats::finish_all(ctx, subscription_id, files).await?;
                Ok(revoke::RevokeOutcome::Revoked { files: files.clone() })
            }
        }
    }

    /// Queues the move for the fulfilment worker.
    pub async fn enqueue(&self, ctx: &Ctx) -> Result<(), ServiceError> {
        match self {
            Returning::Ended(sid) => super::super::jobs::enqueue_revoke(ctx, sid).await,
            Returning::Files { subscription_id, files } => {
                super::super::jobs::enqueue_take_back(ctx, subscription_id, files).await
            }
        }
    }
}

/// Adds to `tx` what the refund of `b` takes back; returns the files that
/// then go back, if any.
pub(super) async fn take_back_writes(
    ctx: &Ctx,
    b: &OrderBundle,
    tx: &mut Tx<Part>,
    actor: &str,
) -> Result<Option<Returning>, ServiceError> {
    let order = &b.order;
    if order.subscription_id.is_some() {
        let Some(sub) = live_subscription(ctx, order).await? else { return Ok(None) };
        let (writes, returning) = from_subscription(ctx, b, &sub, actor)?;
        tx.extend(Part::Implied, writes);
        if bought(order, &sub) == Bought::Whole {
            // Staff were refused this (`later::refuse_if_later`); a
            // provider's refund cannot be, so staff are told in its commit.
            let later = later::adding_to(ctx, &sub).await?;
            if !later.is_empty() {
                tx.push(Part::Implied, events::record(ctx, &later::alert(&order.order_id, &sub, &later, actor))?);
            }
        }
        return Ok(returning);
    }
    if b.intent.as_ref().is_some_and(|i| !i.done) {
        // Claimed but not yet handed over: give the claim back.
        tx.extend(Part::Implied, claim_back(ctx, b, actor)?);
        return Ok(Some(Returning::Ended(SubscriptionId::for_order(&order.order_id).into())));
    }
    Ok(None)
}

/// The subscription the order was fulfilled into, while it is live.
async fn live_subscription(ctx: &Ctx, order: &OrderRecord) -> Result<Option<SubscriptionRecord>, ServiceError> {
    let Some(sid) = &order.subscription_id else { return Ok(None) };
    let Some(item) = ctx.records.get(&keys::subscription(sid)).await? else { return Ok(None) };
    let sub: SubscriptionRecord = items::from_item(item)?;
    Ok(sub.ended.is_none().then_some(sub))
}

/// The live subscription that refunding `order` would end, if any.
pub(super) async fn ends_live(ctx: &Ctx, order: &OrderRecord) -> Result<Option<SubscriptionRecord>, ServiceError> {
    let sub = live_subscription(ctx, order).await?;
    Ok(sub.filter(|s| bought(order, s) == Bought::Whole))
}

/// What an order bought in the subscription it was fulfilled into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bought {
    Files,
    Days,
    /// All of it: the order created it (a renewal after expiry starts its own).
    Whole,
}

fn bought(order: &OrderRecord, sub: &SubscriptionRecord) -> Bought {
    let created_it = sub.order_id == order.order_id;
    match order.purpose {
        Purpose::ExtraFiles if !created_it => Bought::Files,
        Purpose::Renew | Purpose::Extend if !created_it => Bought::Days,
        _ => Bought::Whole,
    }
}

/// What a refund takes back from the live subscription its order was
/// fulfilled into: all of it only for the order that created it.
fn from_subscription(
    ctx: &Ctx,
    b: &OrderBundle,
    sub: &SubscriptionRecord,
    actor: &str,
) -> Result<(Vec<Write>, Option<Returning>), ServiceError> {
    let order = &b.order;
    let sid = sub.subscription_id.clone();
    match bought(order, sub) {
        Bought::Files => {
            // Its files that the subscription still has.
            let files: Vec<String> = bought_files(b, sub).into_iter().filter(|f| sub.files.contains(f)).collect();
            if files.is_empty() {
                return Ok((Vec::new(), None));
            }
            let reason = format!("add-on {} refunded", order.order_id);
            let writes = seats::take_back_writes(ctx, sub, &files, (LedgerKind::Refund, &reason), actor)?;
            Ok((writes, Some(Returning::Files { subscription_id: sid, files })))
        }
        Bought::Days => Ok((vec![take_back_days(ctx, order, sub)?], None)),
        Bought::Whole => Ok((revoke::begin(ctx, sub, EndReason::Refunded, actor)?, Some(Returning::Ended(sid)))),
    }
}

/// The files an add-on order holds in `sub` now: those its claim named,
/// each followed through its replacements (a banned file's replacement is
/// given on the same order's behalf, so it goes back in its place).
pub fn bought_files(b: &OrderBundle, sub: &SubscriptionRecord) -> Vec<String> {
    let claimed = b.intent.as_ref().map(|i| i.files.as_slice()).unwrap_or_default();
    claimed.iter().map(|f| sub.now_in_place_of(f)).collect()
}

/// A refunded renewal or extension takes back its days: never below now
/// (time already used stays used) and never later than it is, so a
/// subscription that still has time paid by other orders keeps it.
fn take_back_days(ctx: &Ctx, order: &OrderRecord, sub: &SubscriptionRecord) -> Result<Write, ServiceError> {
    let now = ctx.clock.now();
    let back = sub.valid_until.plus_days(-i64::from(order.validity_days));
    let until = back.max(now).min(sub.valid_until);
    subs::set_valid_until(sub, until)
}

/// The writes that turn a refunded order's unfinished claim into a revoke
/// intent (files back to stock), keyed as its subscription would have been.
fn claim_back(ctx: &Ctx, b: &OrderBundle, actor: &str) -> Result<Vec<Write>, ServiceError> {
    let order = &b.order;
    let Some(intent) = b.intent.as_ref() else { return Ok(Vec::new()) };
    let sub_id: String = SubscriptionId::for_order(&order.order_id).into();
    let back = RevokeIntent {
        subscription_id: sub_id.clone(),
        order_id: order.order_id.clone(),
        user_id: intent.user_id.clone(),
        email: order.email.clone(),
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
            item: items::to_item(&keys::revoke_intent(&sub_id), &back, Some(gsi), None)?,
            cond: Some(Cond::NotExists),
        },
        orders::intent_done(&order.order_id),
    ])
}

/// Fulfilment found its order refunded after it had claimed files: hand
/// them back (whoever converts the claim first wins; the other finds it done).
pub async fn return_claim(ctx: &Ctx, b: &OrderBundle) -> Result<(), ServiceError> {
    match ctx.records.transact(claim_back(ctx, b, "fulfil")?).await {
        Ok(()) | Err(RecordError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    revoke::finish(ctx, SubscriptionId::for_order(&b.order.order_id).as_str()).await.map(|_| ())
}
