//! Per-seat billing: a plan with a `seat_price` is priced by its seats (files).
//! A daily snapshot records each live subscription's seats and adds them to
//! the usage period's seat-days; a live renewal is priced from the seats at
//! renewal time.

mod remove;

pub use remove::{RemoveOutcome, finish_all, finish_stale, remove, take_back_writes};

use serde::Serialize;

use super::model::Purpose;
use super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::store::usage::{self, Snapshot};
use super::tx::Tx;
use super::{Ctx, ServiceError, subscriptions};
use crate::domain::usage::{period_index, seat_price_for};
use crate::domain::{Product, SubscriptionState, subscription_state};

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SnapshotReport {
    /// Live subscriptions seen.
    pub subscriptions: u64,
    /// Snapshots written by this run (one per subscription and day).
    pub recorded: u64,
}

/// Days since the epoch, UTC.
fn day_of(ctx: &Ctx) -> i64 {
    ctx.clock.now().secs().div_euclid(86_400)
}

pub async fn snapshot(ctx: &Ctx) -> Result<SnapshotReport, ServiceError> {
    let now = ctx.clock.now();
    let day = day_of(ctx);
    let mut report = SnapshotReport::default();
    let mut live = subs::live(ctx);
    while let Some(page) = live.next_page().await? {
        for sub in page {
            let state = subscription_state(sub.valid_until, sub.ended, now);
            if !matches!(state, SubscriptionState::Active | SubscriptionState::Grace) {
                continue;
            }
            report.subscriptions += 1;
            report.recorded += u64::from(record(ctx, &sub, day).await?);
        }
    }
    Ok(report)
}

/// Today's snapshot and its seat-days, once: the snapshot must be new.
async fn record(ctx: &Ctx, sub: &SubscriptionRecord, day: i64) -> Result<bool, ServiceError> {
    let seats = sub.files.len() as u64;
    let n = period_index(sub.created_at, ctx.clock.now());
    let snap = Snapshot { subscription_id: sub.subscription_id.clone(), day, seats, period: n };
    let mut tx = Tx::new();
    // Refused when today's snapshot exists or the period closed: nothing to do.
    tx.push((), usage::put_snapshot(&snap)?).push((), usage::add_seat_days(sub, n, seats)?);
    match tx.commit(ctx).await {
        Ok(commit) => Ok(commit.is_done()),
        Err(ServiceError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The product as this checkout sells it: a live renewal of a per-seat plan
/// costs the seats the subscription has now; anything else, the list price.
pub async fn priced(
    ctx: &Ctx,
    mut product: Product,
    purpose: Purpose,
    for_subscription: Option<&str>,
) -> Result<Product, ServiceError> {
    let (Some(seat), Purpose::Renew, Some(id)) = (product.seat_price.clone(), purpose, for_subscription) else {
        return Ok(product);
    };
    let sub = subscriptions::load(ctx, id).await?;
    // An ended subscription's files went back: it renews with the default seats.
    if sub.ended.is_none() {
        let seats = u32::try_from(sub.files.len()).unwrap_or(u32::MAX);
        product.price = seat_price_for(&product.price, &seat, product.files, seats);
    }
    Ok(product)
}
