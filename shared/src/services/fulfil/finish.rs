//! Step 3 of fulfilment: the subscription, the order marked fulfilled, the
//! intent done and the credit earned, in one transaction; or, without
//! stock, the order backordered.

use super::{FulfilOutcome, fulfil_once};
use crate::domain::OrderStatus;
use crate::ports::{Change, Cond, RecordError, Write};
use crate::services::events::{self, Event};
use crate::services::items::{json, mark_done, to_item};
use crate::services::model::{IntentRecord, OrderRecord, SubscriptionRecord};
use crate::services::orders::{is_status, status_changes};
use crate::services::{Ctx, ServiceError, credits, keys};

pub(super) async fn finish(
    ctx: &Ctx,
    order: &OrderRecord,
    intent: &IntentRecord,
) -> Result<FulfilOutcome, ServiceError> {
    let now = ctx.clock.now();
    let paid_at = order.paid_at.unwrap_or(now);
    // Derived from the order so a retried finish writes the same subscription.
    let subscription_id = format!("S{}", order.order_id);
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
    };
    let mut changes = status_changes(&order.order_id, OrderStatus::Fulfilled, now);
    changes.push(Change::Set("subscription_id".into(), subscription_id.clone().into()));
    let writes = vec![
        Write::Put {
            item: to_item(
                &keys::subscription(&subscription_id),
                &sub,
                Some((keys::SUBS_INDEX.into(), keys::sort_at(sub.valid_until, &subscription_id))),
                None,
            )?,
            cond: Some(Cond::NotExists),
        },
        Write::Update {
            key: keys::order(&order.order_id),
            changes,
            cond: Some(Cond::In("status".into(), vec![json(&OrderStatus::Paid), json(&OrderStatus::Backordered)])),
        },
        mark_done(keys::intent(&order.order_id)),
    ];
    let earn = credits::earn_writes(ctx, order)?;
    // The credit is earned with the fulfilment (if the purchase was
    // deactivated first, the order is fulfilled without it).
    match credits::transact_with_earn(ctx, writes, earn).await {
        Ok(()) => {}
        // Done by another run, or the order was refunded meanwhile: look
        // again (a refunded order gets its claim handed back).
        Err(RecordError::ConditionFailed { .. }) => return Box::pin(fulfil_once(ctx, &order.order_id)).await,
        Err(e) => return Err(e.into()),
    }
    tracing::info!(order_id = %order.order_id, %subscription_id, files = intent.files.len(), "order fulfilled");
    let event = Event::SubscriptionActivated {
        subscription_id: subscription_id.clone(),
        order_id: order.order_id.clone(),
        user_id: order.user_id.clone(),
        files: intent.files.clone(),
        interval_seconds: order.interval_seconds,
        valid_until: sub.valid_until.rfc3339(),
    };
    events::notify(ctx, event).await;
    Ok(FulfilOutcome::Fulfilled { subscription_id, files: intent.files.clone() })
}

/// No stock for a paid order: it becomes visibly backordered, staff are
/// alerted, and it is filled when stock returns (invariant 5).
pub(super) async fn backorder(ctx: &Ctx, order: &OrderRecord) -> Result<FulfilOutcome, ServiceError> {
    if order.status == OrderStatus::Paid {
        let now = ctx.clock.now();
        let changes = status_changes(&order.order_id, OrderStatus::Backordered, now);
        match ctx.records.update(&keys::order(&order.order_id), changes, Some(is_status(OrderStatus::Paid))).await {
            Ok(_) => {
                tracing::warn!(order_id = %order.order_id, "paid order backordered: no stock");
                let event = Event::OrderBackordered {
                    order_id: order.order_id.clone(),
                    files: order.files,
                    product_id: order.product_id.clone(),
                };
                events::notify(ctx, event).await;
            }
            Err(RecordError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(FulfilOutcome::Backordered)
}
