//! Per-seat billing: a plan with a `seat_price` is priced by its seats (files).
//! A daily snapshot records each live subscription's seats and adds them to
//! the usage period's seat-days; a live renewal is priced from the seats at
//! renewal time.

mod remove;

pub use remove::{RemoveOutcome, finish_all, finish_stale, remove, take_back_writes};

use serde::Serialize;
use serde_json::Value;

use super::items::{from_item, to_item};
use super::model::{Purpose, SubscriptionRecord};
use super::periods::open_changes;
use super::{Ctx, ServiceError, keys, subscriptions};
use crate::domain::usage::{period_index, seat_price_for};
use crate::domain::{Product, SubscriptionState, subscription_state};
use crate::ports::{Change, Cond, Index, Query, RecordError, Write};

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SnapshotReport {
    /// Live subscriptions seen.
    pub subscriptions: u64,
    /// Snapshots written by this run (one per subscription and day).
    pub recorded: u64,
}

#[derive(Serialize)]
struct Snapshot {
    subscription_id: String,
    day: i64,
    seats: u64,
    period: u64,
}

/// Days since the epoch, UTC.
fn day_of(ctx: &Ctx) -> i64 {
    ctx.clock.now().secs().div_euclid(86_400)
}

pub async fn snapshot(ctx: &Ctx) -> Result<SnapshotReport, ServiceError> {
    let now = ctx.clock.now();
    let day = day_of(ctx);
    let mut report = SnapshotReport::default();
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Gsi1, keys::SUBS_INDEX).limit(100).after(cursor);
        let page = ctx.records.query(q).await?;
        for item in page.items {
            let sub: SubscriptionRecord = from_item(item)?;
            let state = subscription_state(sub.valid_until, sub.ended, now);
            if !matches!(state, SubscriptionState::Active | SubscriptionState::Grace) {
                continue;
            }
            report.subscriptions += 1;
            report.recorded += u64::from(record(ctx, &sub, day).await?);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(report),
        }
    }
}

/// Today's snapshot and its seat-days, once: the snapshot must be new.
async fn record(ctx: &Ctx, sub: &SubscriptionRecord, day: i64) -> Result<bool, ServiceError> {
    let seats = sub.files.len() as u64;
    let n = period_index(sub.created_at, ctx.clock.now());
    let snap = Snapshot { subscription_id: sub.subscription_id.clone(), day, seats, period: n };
    let mut changes = open_changes(sub, n);
    changes.push(Change::Add("seat_days".into(), seats as i64));
    let writes = vec![
        Write::Put {
            item: to_item(&keys::seat_snapshot(&sub.subscription_id, day), &snap, None, None)?,
            cond: Some(Cond::NotExists),
        },
        Write::Update {
            key: keys::usage_period(&sub.subscription_id, n),
            changes,
            cond: Some(Cond::Ne("closed".into(), Value::Bool(true))),
        },
    ];
    match ctx.records.transact(writes).await {
        Ok(()) => Ok(true),
        Err(RecordError::ConditionFailed { .. }) | Err(RecordError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
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
