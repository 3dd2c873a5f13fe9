//! Work handed to the fulfilment queue, and how scheduled jobs report their
//! steps. A leaf: use cases queue jobs here; the worker runs them.

mod steps;

use serde::{Deserialize, Serialize};

pub use steps::{StepOutcome, StepReport, Steps};

use super::store::orders;
use super::{Ctx, ServiceError};
use crate::domain::{OrderStatus, Timestamp};

/// A job on the fulfilment queue: hand out an order's files, take a
/// subscription's back, or take back some of its files (a refunded add-on).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Job {
    Fulfil {
        order_id: String,
        /// The order as its move to paid committed it, so fulfilment need
        /// not read it first; absent, it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        paid: Option<Box<Paid>>,
    },
    Revoke {
        revoke_subscription_id: String,
    },
    TakeBack {
        take_back_subscription_id: String,
        files: Vec<String>,
    },
}

/// An order just moved to paid, and the records fulfilment needs of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Paid {
    pub order: orders::OrderRecord,
    pub hold: Option<orders::HoldRecord>,
}

pub async fn enqueue(ctx: &Ctx, order_id: &str) -> Result<(), ServiceError> {
    send(ctx, &Job::Fulfil { order_id: order_id.to_string(), paid: None }).await
}

/// Queues fulfilment with the order as it was paid.
pub async fn enqueue_paid(ctx: &Ctx, paid: Paid) -> Result<(), ServiceError> {
    send(ctx, &Job::Fulfil { order_id: paid.order.order_id.clone(), paid: Some(Box::new(paid)) }).await
}

pub async fn enqueue_revoke(ctx: &Ctx, subscription_id: &str) -> Result<(), ServiceError> {
    send(ctx, &Job::Revoke { revoke_subscription_id: subscription_id.to_string() }).await
}

pub async fn enqueue_take_back(ctx: &Ctx, subscription_id: &str, files: &[String]) -> Result<(), ServiceError> {
    send(ctx, &Job::TakeBack { take_back_subscription_id: subscription_id.to_string(), files: files.to_vec() }).await
}

async fn send(ctx: &Ctx, job: &Job) -> Result<(), ServiceError> {
    let body = serde_json::to_string(job).map_err(ServiceError::internal)?;
    Ok(ctx.fulfil_queue.send(body).await?)
}

/// Queues fulfilment again for orders paid more than the configured time ago
/// and still not fulfilled. Returns how many were queued.
pub async fn requeue_paid(ctx: &Ctx) -> Result<u64, ServiceError> {
    let cutoff = ctx.clock.now().plus_millis(-ctx.settings.requeue_after_millis);
    queue_orders(ctx, OrderStatus::Paid, Some(cutoff)).await
}

/// Queues every backordered order, oldest first, to try stock again.
pub async fn queue_backorders(ctx: &Ctx) -> Result<u64, ServiceError> {
    queue_orders(ctx, OrderStatus::Backordered, None).await
}

async fn queue_orders(ctx: &Ctx, status: OrderStatus, upto: Option<Timestamp>) -> Result<u64, ServiceError> {
    let mut queued = 0;
    let mut pages = orders::with_status(ctx, status, upto, 100);
    while let Some(page) = pages.next_page().await? {
        for order in page.into_iter().filter(|o| o.status == status) {
            enqueue(ctx, &order.order_id).await?;
            queued += 1;
        }
    }
    Ok(queued)
}
