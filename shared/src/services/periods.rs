//! The usage period record: one per subscription and 30-day period (keyed by
//! index), holding the counters, seat-days and whether it is closed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Timestamp;
use crate::domain::usage::{Metric, period_bounds, period_index};
use crate::ports::Change;
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::services::items::{from_item, json};
use crate::services::model::SubscriptionRecord;
use crate::services::{Ctx, ServiceError, keys};

/// One 30-day usage period (times in epoch milliseconds).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = UsagePeriod)]
pub struct PeriodRecord {
    #[serde(default)]
    pub subscription_id: String,
    #[serde(default)]
    pub period: u64,
    #[serde(default = "zero")]
    #[schema(value_type = i64)]
    pub start: Timestamp,
    #[serde(default = "zero")]
    #[schema(value_type = i64)]
    pub end: Timestamp,
    #[serde(default)]
    pub posts: u64,
    /// Sum of the daily seat snapshots taken in this period.
    #[serde(default)]
    pub seat_days: u64,
    /// Bumped by every usage report (optimistic lock on the counters).
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub closed: bool,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub closed_at: Option<Timestamp>,
}

fn zero() -> Timestamp {
    Timestamp(0)
}

impl PeriodRecord {
    pub fn used(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Posts => self.posts,
        }
    }
}

/// The period a subscription is in now.
pub fn current(ctx: &Ctx, sub: &SubscriptionRecord) -> u64 {
    period_index(sub.created_at, ctx.clock.now())
}

/// Sets what identifies period `n` and puts it in the reset job's index.
/// Every write to a period carries these, so whichever comes first (a
/// report, a snapshot, the reset job) creates it whole.
pub fn open_changes(sub: &SubscriptionRecord, n: u64) -> Vec<Change> {
    let (start, end) = period_bounds(sub.created_at, n);
    vec![
        Change::Set("subscription_id".into(), sub.subscription_id.clone().into()),
        Change::Set("period".into(), Value::from(n)),
        Change::Set("start".into(), json(&start)),
        Change::Set("end".into(), json(&end)),
        Change::Set(GSI1PK.into(), keys::USAGE_DUE_INDEX.into()),
        Change::Set(GSI1SK.into(), keys::sort_at(end, &sub.subscription_id).into()),
    ]
}

/// Period `n` as stored, or an empty one.
pub async fn load(ctx: &Ctx, sub: &SubscriptionRecord, n: u64) -> Result<PeriodRecord, ServiceError> {
    ctx.faults.hit("usage.read")?;
    match ctx.records.get(&keys::usage_period(&sub.subscription_id, n)).await? {
        Some(item) => Ok(from_item(item)?),
        None => {
            let (start, end) = period_bounds(sub.created_at, n);
            Ok(PeriodRecord {
                subscription_id: sub.subscription_id.clone(),
                period: n,
                start,
                end,
                posts: 0,
                seat_days: 0,
                version: 0,
                closed: false,
                closed_at: None,
            })
        }
    }
}
