//! What follows a committed move, in one table (its events were recorded
//! with it). Each effect is safe to
//! repeat and has a safety net if it is lost: the credits job settles a
//! spend, the paid-order sweep queues fulfilment again, reconcile and the
//! usage jobs finish a return of files.

use super::super::store::orders::OrderBundle;
use super::super::{Ctx, ServiceError, credits, jobs};
use super::{FilesBack, Move, Returning};
use crate::domain::OrderStatus;

pub(super) async fn after(ctx: &Ctx, m: &Move<'_>, returning: Option<&Returning>) -> Result<(), ServiceError> {
    let order = &m.bundle.order;
    let id = order.order_id.as_str();
    if let Some(excess) = &m.facts.overpaid {
        tracing::warn!(order_id = id, %excess, "overpaid");
    }
    match m.to {
        OrderStatus::Paid => {
            if order.credits > 0 {
                credits::after_payment(ctx, id, m.actor).await;
            }
            // If this send is lost, the paid-order sweep queues it again.
            let sent = match ctx.faults.hit("webhook.enqueue") {
                Ok(()) => jobs::enqueue_paid(ctx, paid(m)).await,
                Err(lost) => Err(lost),
            };
            if let Err(e) = sent {
                tracing::error!(order_id = id, error = %e, "could not queue fulfilment; the sweep will");
            }
        }
        OrderStatus::Expired | OrderStatus::Failed => {
            if order.credits > 0 {
                // The order will not be paid: its pending spend is voided.
                credits::after_payment(ctx, id, m.actor).await;
            }
            if m.close_invoice {
                close_invoice(ctx, m.bundle).await;
            }
        }
        OrderStatus::Refunded => {
            ctx.faults.hit("refund.after_commit")?;
            credits::on_refund(ctx, id, m.actor).await;
            ctx.faults.hit("refund.after_credits")?;
            // Now: the caller moves them (staff see the outcome). Queued:
            // reconcile (a revoke intent) or the usage jobs (a seat removal)
            // finish it if this message is lost.
            if let (Some(r), FilesBack::Queued) = (returning, m.files_back)
                && let Err(e) = r.enqueue(ctx).await
            {
                tracing::error!(order_id = id, error = %e, "could not queue the files' return; the jobs will finish it");
            }
        }
        _ => {}
    }
    Ok(())
}

/// The order as the move wrote it (`orders::moved`: the status, and the
/// facts given), with its hold (a move to paid keeps it).
fn paid(m: &Move<'_>) -> jobs::Paid {
    let mut order = m.bundle.order.clone();
    let f = &m.facts;
    order.status = m.to;
    order.missing = f.missing.clone();
    order.paid_at = f.paid_at.or(order.paid_at);
    let keep = |new: &Option<String>, old: &mut Option<String>| {
        if new.is_some() {
            old.clone_from(new);
        }
    };
    keep(&f.provider_status, &mut order.provider_status);
    keep(&f.received, &mut order.received);
    keep(&f.overpaid, &mut order.overpaid);
    keep(&f.subscription_id, &mut order.subscription_id);
    keep(&f.refunded_by, &mut order.refunded_by);
    keep(&f.refund_method, &mut order.refund_method);
    keep(&f.refund_id, &mut order.refund_id);
    jobs::Paid { order, hold: m.bundle.hold.clone() }
}

/// Our hold ended before the provider's invoice did: close the invoice so the
/// buyer cannot pay for stock we no longer hold. Best effort: if the provider
/// is down, a payment that still lands is handled like any late payment
/// (fulfilled from free stock or backordered, never lost).
pub(crate) async fn close_invoice(ctx: &Ctx, b: &OrderBundle) {
    let Some(payment_id) = b.payment.as_ref().and_then(|p| p.payment_id.as_deref()) else { return };
    if let Err(e) = ctx.gateway.cancel(b.order.provider, payment_id).await {
        tracing::warn!(order_id = %b.order.order_id, error = %e, "could not close the invoice of a lapsed hold");
    }
}
