//! Safety nets run on a timer: paid orders whose fulfilment message was lost,
//! backorders waiting for stock, and the events outbox.

use super::items::from_item;
use super::model::OrderRecord;
use super::{Ctx, ServiceError, keys};
use crate::domain::OrderStatus;
use crate::ports::{Index, Query, SkRange};

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
        Some(u) => SkRange::Between(String::new(), u),
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
