//! Usage as the bot engine sees it (inside the entitlement) and as staff see
//! it (current and past periods).

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::periods::{self, PeriodRecord};
use crate::domain::usage::{Metric, UsageFail};
use crate::services::store::subscriptions::SubscriptionRecord;
use crate::services::store::usage;
use crate::services::{Ctx, ServiceError, catalog, subscriptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageStatus {
    Ok,
    /// Usage could not be read; the plan lets the bot run anyway.
    UnavailableOpen,
    /// Usage could not be read; the plan stops the bot until it can be.
    UnavailableClosed,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricUsage {
    /// None when usage could not be read.
    pub used: Option<u64>,
    /// None when the plan does not limit this metric.
    pub limit: Option<u64>,
    pub hard: bool,
    #[schema(format = DateTime)]
    pub resets_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageView {
    pub usage: BTreeMap<Metric, MetricUsage>,
    pub usage_status: UsageStatus,
}

impl UsageView {
    /// Whether usage lets the bot run: no hard quota spent, and usage read
    /// (or the plan fails open).
    pub fn allows_run(&self) -> bool {
        let spent = self.usage.values().any(|m| m.hard && m.used.zip(m.limit).is_some_and(|(u, l)| u >= l));
        !spent && self.usage_status != UsageStatus::UnavailableClosed
    }
}

/// Usage now. Never fails: when the store cannot be read, it says so and
/// the plan's `usage_fail` decides (default open).
pub async fn view(ctx: &Ctx, sub: &SubscriptionRecord) -> UsageView {
    let plan = catalog::get(ctx, &sub.product_id).await.ok().flatten();
    let n = periods::current(ctx, sub);
    let (_, end) = crate::domain::usage::period_bounds(sub.created_at, n);
    let read = periods::load(ctx, sub, n).await;
    if let Err(e) = &read {
        tracing::warn!(subscription_id = %sub.subscription_id, error = ?e, "usage unavailable");
    }
    let status = match (&read, plan.as_ref().map_or(UsageFail::Open, |p| p.usage_fail)) {
        (Ok(_), _) => UsageStatus::Ok,
        (Err(_), UsageFail::Open) => UsageStatus::UnavailableOpen,
        (Err(_), UsageFail::Closed) => UsageStatus::UnavailableClosed,
    };
    let usage = Metric::ALL
        .into_iter()
        .map(|m| {
            let quota = plan.as_ref().and_then(|p| p.quotas.get(&m)).copied();
            let used = read.as_ref().ok().map(|p| p.used(m));
            let row = MetricUsage {
                used,
                limit: quota.map(|q| q.limit),
                hard: quota.is_some_and(|q| q.hard),
                resets_at: end.rfc3339(),
            };
            (m, row)
        })
        .collect();
    UsageView { usage, usage_status: status }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageHistory {
    pub subscription_id: String,
    /// Seats (files) now.
    pub seats: usize,
    pub current: PeriodRecord,
    /// Closed and earlier periods, newest first.
    pub past: Vec<PeriodRecord>,
}

/// `GET /admin/subscriptions/{id}/usage`.
pub async fn history(ctx: &Ctx, id: &str) -> Result<UsageHistory, ServiceError> {
    let sub = subscriptions::load(ctx, id).await?;
    let n = periods::current(ctx, &sub);
    let mut current = None;
    let mut past = Vec::new();
    let mut stored = usage::history(ctx, id);
    while let Some(page) = stored.next_page().await? {
        for p in page {
            if p.period == n {
                current = Some(p)
            } else if p.period < n {
                past.push(p)
            }
        }
    }
    let current = match current {
        Some(p) => p,
        None => periods::load(ctx, &sub, n).await?,
    };
    Ok(UsageHistory { subscription_id: id.to_string(), seats: sub.files.len(), current, past })
}
