//! The usage period leaf both usage and seats use: which period a
//! subscription is in, and that period as stored (see `store::usage`).

use crate::domain::usage::{period_bounds, period_index};
use crate::services::store::subscriptions::SubscriptionRecord;
use crate::services::store::usage;
use crate::services::{Ctx, ServiceError};

pub use usage::PeriodRecord;

impl PeriodRecord {
    pub fn used(&self, metric: crate::domain::usage::Metric) -> u64 {
        match metric {
            crate::domain::usage::Metric::Posts => self.posts,
        }
    }
}

/// The period a subscription is in now.
pub fn current(ctx: &Ctx, sub: &SubscriptionRecord) -> u64 {
    period_index(sub.created_at, ctx.clock.now())
}

/// Period `n` as stored, or an empty one.
pub async fn load(ctx: &Ctx, sub: &SubscriptionRecord, n: u64) -> Result<PeriodRecord, ServiceError> {
    ctx.faults.hit("usage.read")?;
    if let Some(p) = usage::get(ctx, &sub.subscription_id, n).await? {
        return Ok(p);
    }
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
