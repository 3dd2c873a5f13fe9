//! Step 3 of fulfilment: the subscription, the order marked fulfilled, the
//! intent done and the credit earned, in one transaction; or, without
//! stock, the order backordered.

use super::{FulfilOutcome, fulfil_once};
use crate::domain::{OrderStatus, SubscriptionId};
use crate::ports::{Cond, Write};
use crate::services::events::Event;
use crate::services::items::to_item;
use crate::services::lifecycle::{self, Move, Moved, Part};
use crate::services::model::{IntentRecord, SubscriptionRecord};
use crate::services::store::orders::{self, Facts, OrderBundle};
use crate::services::{Ctx, ServiceError, keys};

pub(super) async fn finish(ctx: &Ctx, b: &OrderBundle, intent: &IntentRecord) -> Result<FulfilOutcome, ServiceError> {
    let order = &b.order;
    let now = ctx.clock.now();
    let paid_at = order.paid_at.unwrap_or(now);
    // Derived from the order so a retried finish writes the same subscription.
    let subscription_id: String = SubscriptionId::for_order(&order.order_id).into();
    let sub = SubscriptionRecord {
        subscription_id: subscription_id.clone(),
        order_id: order.order_id.clone(),
        user_id: order.user_id.clone(),
        email: order.email.clone(),
        product_id: order.product_id.clone(),
        files: intent.files.clone(),
        interval_seconds: order.interval_seconds,
        valid_until: paid_at.plus_days(i64::from(order.validity_days)),
        created_at: now,
        ended: None,
        grace_noted: false,
        rev: 0,
        flagged: Vec::new(),
        reminded: None,
        replacements: Vec::new(),
    };
    let sub_put = Write::Put {
        item: to_item(
            &keys::subscription(&subscription_id),
            &sub,
            Some((keys::SUBS_INDEX.into(), keys::sort_at(sub.valid_until, &subscription_id))),
            None,
        )?,
        cond: Some(Cond::NotExists),
    };
    let mut m = Move::new(b, OrderStatus::Fulfilled, "fulfil", "fulfilled")
        .write(Part::Caller, sub_put)
        .write(Part::Caller, orders::intent_done(&order.order_id));
    m.facts = Facts { subscription_id: Some(subscription_id.clone()), ..Facts::default() };
    m.delivered = Some((intent.files.clone(), sub.valid_until));
    m.notify = Some(Event::SubscriptionActivated {
        subscription_id: subscription_id.clone(),
        order_id: order.order_id.clone(),
        user_id: order.user_id.clone(),
        files: intent.files.clone(),
        interval_seconds: order.interval_seconds,
        valid_until: sub.valid_until.rfc3339(),
    });
    // The credit is earned with the fulfilment (if the purchase was
    // deactivated first, the order is fulfilled without it).
    match lifecycle::apply(ctx, m).await? {
        Moved::Done(_) => {}
        // Done by another run, or the order was refunded meanwhile: look
        // again (a refunded order gets its claim handed back).
        Moved::Refused(_) | Moved::NotAllowed => return Box::pin(fulfil_once(ctx, &order.order_id, None)).await,
    }
    tracing::info!(order_id = %order.order_id, %subscription_id, files = intent.files.len(), "order fulfilled");
    Ok(FulfilOutcome::Fulfilled { subscription_id, files: intent.files.clone() })
}
/// No stock for a paid order: it becomes visibly backordered, staff are
/// alerted, and it is filled when stock returns (invariant 5).
pub(super) async fn backorder(ctx: &Ctx, b: &OrderBundle) -> Result<FulfilOutcome, ServiceError> {
    let order = &b.order;
    if order.status == OrderStatus::Paid {
        // The lifecycle records order.backordered with the move.
        let m = Move::new(b, OrderStatus::Backordered, "fulfil", "no stock");
        if let Moved::Done(_) = lifecycle::apply(ctx, m).await? {
            tracing::warn!(order_id = %order.order_id, "paid order backordered: no stock");
        }
    }
    Ok(FulfilOutcome::Backordered)
}
