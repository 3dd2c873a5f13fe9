//! Releasing checkout holds: when they lapse, when the provider says the
//! payment expired or failed, and when no invoice could be made.

use super::model::OrderRecord;
use super::orders::{is_status, status_changes};
use super::stock::{StockEntry, delta};
use super::{Ctx, ServiceError, keys};
use crate::domain::{LedgerKind, OrderStatus};
use crate::ports::{Cond, Index, Query, Write};
use crate::services::tx::{CommitError, commit};

/// Deletes the order's hold, gives its stock back (ledger kind release) and,
/// when `to` is given, moves the order there, all in one commit. Returns
/// false when there was nothing to release (already released or converted).
pub async fn release(
    ctx: &Ctx,
    order: &OrderRecord,
    count: u32,
    to: Option<OrderStatus>,
    reason: &str,
    actor: &str,
) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let mut writes = vec![Write::Delete { key: keys::hold(&order.order_id), cond: Some(Cond::Exists) }];
    if let Some(to) = to {
        writes.push(Write::Update {
            key: keys::order(&order.order_id),
            changes: status_changes(&order.order_id, to, now),
            cond: Some(is_status(order.status)),
        });
        if order.status.is_open() && !to.is_open() {
            writes.extend(super::limits::give_back(order));
        }
    }
    match commit(ctx, writes, vec![release_entry(&order.order_id, count, reason, actor)], |_| Ok(())).await {
        Ok(_) => {
            if to.is_some() && order.credits > 0 {
                // The order will not be paid: its pending spend is voided.
                super::credits::after_payment(ctx, &order.order_id, actor).await;
            }
            Ok(true)
        }
        Err(CommitError::Condition(_)) => Ok(false),
        Err(CommitError::Service(e)) => Err(e),
    }
}

/// The ledger line for stock a hold gives back.
pub fn release_entry(order_id: &str, count: u32, reason: &str, actor: &str) -> StockEntry {
    StockEntry {
        kind: LedgerKind::Release,
        file: None,
        change: delta(0, -i64::from(count), 0),
        reason: reason.to_string(),
        reference: order_id.to_string(),
        actor: actor.to_string(),
    }
}

/// Releases every hold whose time has passed and expires its unpaid order.
/// Returns how many holds were released.
pub async fn release_lapsed(ctx: &Ctx) -> Result<u32, ServiceError> {
    let now = ctx.clock.now();
    let upto = keys::sort_at(now, "~");
    let mut released = 0;
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Gsi1, keys::HOLDS_INDEX).sk(keys::up_to(upto.clone())).limit(100).after(cursor);
        let page = ctx.records.query(q).await?;
        for item in page.items {
            let hold: super::model::HoldRecord = super::items::from_item(item)?;
            if hold.expires_at > now {
                continue;
            }
            let Some(bundle) = super::orders::load(ctx, &hold.order_id).await? else { continue };
            // Only unpaid orders expire; a paid one keeps its hold for fulfilment.
            let to = bundle.order.status.is_open().then_some(OrderStatus::Expired);
            if to.is_none() && bundle.order.status.is_paid() {
                continue;
            }
            if release(ctx, &bundle.order, hold.count, to, "hold lapsed", "expire").await? {
                released += 1;
                close_invoice(ctx, &bundle).await;
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(released),
        }
    }
}

/// Our hold ended before the provider's invoice did: close the invoice so the
/// buyer cannot pay for stock we no longer hold. Best effort: if the provider
/// is down, a payment that still lands is handled like any late payment
/// (fulfilled from free stock or backordered, never lost).
async fn close_invoice(ctx: &Ctx, bundle: &super::orders::OrderBundle) {
    let Some(payment_id) = bundle.payment.as_ref().and_then(|p| p.payment_id.as_deref()) else { return };
    if let Err(e) = ctx.gateway.cancel(bundle.order.provider, payment_id).await {
        tracing::warn!(order_id = %bundle.order.order_id, error = %e, "could not close the invoice of a lapsed hold");
    }
}
