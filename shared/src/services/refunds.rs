//! Staff refunds: the money goes back where the provider can (Stripe's
//! Refunds API) or is recorded as to be sent by hand, then the order moves
//! to refunded through the lifecycle, which takes back exactly what it
//! bought (`lifecycle/refund.rs`) and moves the files back now.

use serde::Serialize;

use super::lifecycle::{self, FilesBack, Move, Moved, Returning};
use super::model::Purpose;
use super::retry::{Step, retry};
use super::store::orders::{self, Facts, OrderBundle};
use super::store::subscriptions as subs;
use super::{Ctx, ServiceError, revoke};
use crate::domain::{OrderId, OrderStatus, SubscriptionId};
use crate::ports::RefundMade;

/// What a refunded order may still have to send back, for a repeat that
/// finishes a cut-short first call.
async fn repeat_returning(ctx: &Ctx, b: &OrderBundle) -> Result<Returning, ServiceError> {
    let order = &b.order;
    Ok(match (order.purpose, &order.subscription_id) {
        (Purpose::ExtraFiles, Some(sid)) => {
            // As the refund named them (through replacements); a file with
            // no take-back begun is passed over.
            let files = match subs::get(ctx, sid).await? {
                Some(sub) => lifecycle::bought_files(b, &sub),
                None => b.intent.as_ref().map(|i| i.files.clone()).unwrap_or_default(),
            };
            Returning::Files { subscription_id: sid.clone(), files }
        }
        // Finishes whatever revoke of it was begun (idempotent; nothing if none).
        (_, sid) => Returning::Ended(sid.clone().unwrap_or_else(|| SubscriptionId::for_order(&order.order_id).into())),
    })
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
/// order bought. Repeating it changes nothing. Refused (409
/// `refund-later-orders-first`) for the order that created a live
/// subscription while later paid orders still add to it.
pub async fn refund_order(ctx: &Ctx, id: &OrderId, actor: &str) -> Result<RefundReport, ServiceError> {
    let order_id = id.as_str();
    let made: std::sync::Mutex<Option<(String, Option<String>)>> = std::sync::Mutex::new(None);
    retry(format!("order {order_id}"), || async {
        let b =
            orders::load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
        let from = b.order.status;
        if from == OrderStatus::Refunded {
            // A repeat finishes what a cut-short first call may have left:
            // the credits and the files (both idempotent).
            super::credits::on_refund(ctx, order_id, actor).await;
            let revoke = Some(repeat_returning(ctx, &b).await?.move_back(ctx).await?)
                .filter(|r| *r != revoke::RevokeOutcome::AlreadyEnded);
            let report =
                RefundReport { order_id: order_id.into(), status: from, revoke, method: None, refund_id: None };
            return Ok(Step::Done(report));
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
        let before = made.lock().ok().and_then(|m| m.clone());
        let (method, refund_id) = match before {
            Some(m) => m,
            None => {
                // Refused before any money moves.
                lifecycle::later::refuse_if_later(ctx, &b.order).await?;
                let m = give_money_back(ctx, &b).await?;
                if let Ok(mut slot) = made.lock() {
                    *slot = Some(m.clone());
                }
                m
            }
        };
        let mut m = Move::new(&b, OrderStatus::Refunded, actor, "refunded before fulfilment");
        m.facts = Facts {
            refunded_by: Some(actor.to_string()),
            refund_method: Some(method.clone()),
            refund_id: refund_id.clone(),
            ..Facts::default()
        };
        m.files_back = FilesBack::Now;
        match lifecycle::apply(ctx, m).await? {
            Moved::Done(done) => {
                let revoke = match &done.returning {
                    Some(r) => Some(r.move_back(ctx).await?),
                    None => None,
                };
                let status = OrderStatus::Refunded;
                let method = Some(method);
                let report = RefundReport { order_id: order_id.into(), status, revoke, method, refund_id };
                Ok(Step::Done(report))
            }
            Moved::Refused(_) | Moved::NotAllowed => Ok(Step::Again),
        }
    })
    .await
}
