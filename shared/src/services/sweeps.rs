//! Safety nets run on a timer: paid orders whose fulfilment message was lost,
//! backorders waiting for stock, and the events outbox.

use super::items::from_item;
use super::model::OrderRecord;
use super::{Ctx, ServiceError, keys};
use crate::domain::OrderStatus;
use crate::ports::{Index, Query, SkRange};

/// Unpaid orders older than this are checked with their provider.
pub const VERIFY_AFTER_MILLIS: i64 = 10 * 60 * 1000;
/// Provider look-ups per run at most (their APIs are rate limited).
pub const VERIFY_PER_RUN: usize = 20;

#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ExpireReport {
    /// Stale unpaid orders whose provider said something new.
    pub payments_verified: u64,
    pub holds_released: u32,
    pub paid_requeued: u64,
    pub moved_to_grace: u64,
    pub expired: u64,
    pub files_released: u64,
    /// Usage resets, seat snapshots and stale seat removals.
    pub usage: super::usage::JobsReport,
}

/// The expiry schedule: first ask providers about stale unpaid orders (so a
/// payment that did land is not expired), then release lapsed holds, queue
/// paid orders whose fulfilment message was lost, and move subscriptions
/// into grace and out of it.
pub async fn expire_job(ctx: &Ctx) -> Result<ExpireReport, ServiceError> {
    let payments_verified = verify_stale(ctx, VERIFY_AFTER_MILLIS, VERIFY_PER_RUN).await?;
    let holds_released = super::holds::release_lapsed(ctx).await?;
    if holds_released > 0 {
        queue_backorders(ctx).await?;
    }
    let paid_requeued = requeue_paid(ctx).await?;
    let subs = super::expiry::run(ctx).await?;
    let usage = super::usage::jobs(ctx).await;
    Ok(ExpireReport {
        payments_verified,
        holds_released,
        paid_requeued,
        moved_to_grace: subs.moved_to_grace,
        expired: subs.expired,
        files_released: subs.files_released,
        usage,
    })
}

/// Queues fulfilment again for orders paid more than the configured time ago
/// and still not fulfilled. Returns how many were queued.
pub async fn requeue_paid(ctx: &Ctx) -> Result<u64, ServiceError> {
    let cutoff = ctx.clock.now().plus_millis(-ctx.settings.requeue_after_millis);
    queue_orders(ctx, OrderStatus::Paid, Some(keys::sort_at(cutoff, "~"))).await
}

/// Queues every backordered order, oldest first, to try stock again.
pub async fn queue_backorders(ctx: &Ctx) -> Result<u64, ServiceError> {
    queue_orders(ctx, OrderStatus::Backordered, None).await
}

async fn queue_orders(ctx: &Ctx, status: OrderStatus, upto: Option<String>) -> Result<u64, ServiceError> {
    let range = match upto {
        Some(u) => keys::up_to(u),
        None => SkRange::All,
    };
    let mut queued = 0;
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Gsi1, keys::orders_by_status(status)).sk(range.clone()).limit(100).after(cursor);
        let page = ctx.records.query(q).await?;
        for item in page.items {
            let order: OrderRecord = from_item(item)?;
            if order.status == status {
                super::fulfil::enqueue(ctx, &order.order_id).await?;
                queued += 1;
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(queued),
        }
    }
}

/// Puts an event on the events queue (notifications, alerts, the bot
/// engine). Best effort: a lost event is logged, never fails the business
/// step that already committed.
pub async fn notify(ctx: &Ctx, kind: &str, data: serde_json::Value) {
    let body = serde_json::json!({"type": kind, "at": ctx.clock.now().rfc3339(), "data": data}).to_string();
    if let Err(e) = ctx.events.send(body).await {
        tracing::error!(kind, error = %e, "could not send event");
    }
}

/// Orders still unpaid long after their payment should have settled are
/// checked with the provider (at most `max` a run, oldest first), and what it
/// says is applied like a webhook. Returns how many changed.
pub async fn verify_stale(ctx: &Ctx, older_than_millis: i64, max: usize) -> Result<u64, ServiceError> {
    let cutoff = keys::sort_at(ctx.clock.now().plus_millis(-older_than_millis), "~");
    let mut changed = 0;
    let mut asked = 0;
    for status in [OrderStatus::Confirming, OrderStatus::Pending, OrderStatus::PartiallyPaid] {
        let q = Query::new(Index::Gsi1, keys::orders_by_status(status))
            .sk(keys::up_to(cutoff.clone()))
            .limit(max.saturating_sub(asked).max(1));
        for item in ctx.records.query(q).await?.items {
            if asked >= max {
                return Ok(changed);
            }
            let order: OrderRecord = from_item(item)?;
            let Some(bundle) = super::orders::load(ctx, &order.order_id).await? else { continue };
            let Some(payment_id) = bundle.payment.and_then(|p| p.payment_id) else { continue };
            asked += 1;
            let mut ev = match ctx.gateway.lookup(order.provider, &payment_id).await {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::warn!(order_id = %order.order_id, error = %e, "could not check a stale order");
                    continue;
                }
            };
            ev.order_id = Some(order.order_id.clone());
            if let super::webhooks::Effect::Moved { .. } = super::webhooks::ingest(ctx, &ev).await? {
                changed += 1;
            }
        }
    }
    Ok(changed)
}
