//! `POST /subscriptions/{id}/usage`: one transaction writes the report's key
//! (must be new), the period counter (version-locked, period still open) and
//! checks that the subscription has not ended.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::super::periods::{self, PeriodRecord, open_changes};
use crate::domain::usage::{Metric, parse_quantity, quota_spent};
use crate::domain::{IdempotencyKey, SubscriptionState, subscription_state};
use crate::ports::{Change, Cond, RecordError, Write};
use crate::services::items::{from_item, json, to_item};
use crate::services::model::SubscriptionRecord;
use crate::services::{Ctx, ServiceError, catalog, keys, subscriptions};

/// The body as sent; `parse` checks it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[schema(value_type = Metric)]
    pub metric: String,
    /// How many happened (posts made).
    #[schema(minimum = 1, maximum = 10_000)]
    pub quantity: i64,
    /// The bot engine's id of this report: the same key and body again is
    /// answered with the same receipt and counted once; another body is 422.
    #[schema(pattern = "^[!-~]{1,255}$")]
    pub idempotency_key: String,
}

/// What a report did. A replay of the same key gets the same receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageReceipt {
    pub subscription_id: String,
    pub metric: Metric,
    pub quantity: u64,
    pub period: u64,
    /// Used in the period after this report.
    pub used: u64,
    pub limit: Option<u64>,
    #[schema(format = DateTime)]
    pub resets_at: String,
    /// A hard quota is spent (the report still counts: the posts happened).
    pub quota_spent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("subscription {0} is {1:?}; usage is not accepted")]
    Ended(String, SubscriptionState),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<RecordError> for UsageError {
    fn from(e: RecordError) -> Self {
        UsageError::Service(e.into())
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    request_hash: String,
    receipt: UsageReceipt,
}

const ATTEMPTS: u32 = 200;
/// Report keys are kept this long (the bot engine retries within hours).
const KEY_TTL_DAYS: i64 = 60;

pub async fn record(ctx: &Ctx, id: &str, req: ReportRequest) -> Result<UsageReceipt, UsageError> {
    let bad = |e: crate::domain::ParseError| ServiceError::BadInput(e.to_string());
    let metric = Metric::parse(&req.metric).map_err(bad)?;
    let quantity = parse_quantity(req.quantity).map_err(bad)?;
    let key = IdempotencyKey::parse(&req.idempotency_key).map_err(bad)?;
    let hash = hex::encode(Sha256::digest(format!("{}\n{quantity}", metric.as_str())));
    let key_of = keys::usage_report(id, key.as_str());
    for attempt in 0..ATTEMPTS {
        if let Some(done) = replay(ctx, &key_of, &hash).await? {
            return Ok(done);
        }
        let sub = subscriptions::load(ctx, id).await?;
        let state = subscription_state(sub.valid_until, sub.ended, ctx.clock.now());
        if matches!(state, SubscriptionState::Expired | SubscriptionState::Revoked) {
            return Err(UsageError::Ended(id.to_string(), state));
        }
        let n = periods::current(ctx, &sub);
        let cur = periods::load(ctx, &sub, n).await?;
        let receipt = receipt(ctx, &sub, &cur, metric, quantity).await?;
        let stored = Stored { request_hash: hash.clone(), receipt: receipt.clone() };
        let ttl = ctx.clock.now().plus_days(KEY_TTL_DAYS).secs();
        let writes = vec![
            Write::Put { item: to_item(&key_of, &stored, None, Some(ttl))?, cond: Some(Cond::NotExists) },
            counter_write(&sub, &cur, metric, receipt.used),
            Write::Check { key: keys::subscription(id), cond: Cond::Absent("ended".into()) },
        ];
        match ctx.records.transact(writes).await {
            Ok(()) => return Ok(receipt),
            // Counted by a concurrent request with the same key: answer as it did.
            Err(RecordError::ConditionFailed { index: 0, .. }) => continue,
            Err(RecordError::ConditionFailed { index: 2, .. }) => {
                let sub = subscriptions::load(ctx, id).await?;
                let state = subscription_state(sub.valid_until, sub.ended, ctx.clock.now());
                return Err(UsageError::Ended(id.to_string(), state));
            }
            // Another report moved the counter, or the period closed: again.
            Err(RecordError::ConditionFailed { .. }) | Err(RecordError::Conflict) => {
                let jitter = rand::random::<u64>() % 10;
                tokio::time::sleep(Duration::from_millis(1 + jitter + u64::from(attempt.min(20)))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Conflict("usage counter is busy; retry with the same key".into()).into())
}

/// The stored receipt for a key seen before; 422 when its body differed.
async fn replay(ctx: &Ctx, key: &crate::ports::Key, hash: &str) -> Result<Option<UsageReceipt>, ServiceError> {
    let Some(item) = ctx.records.get(key).await? else { return Ok(None) };
    let stored: Stored = from_item(item)?;
    if stored.request_hash != hash {
        return Err(ServiceError::IdempotencyMismatch);
    }
    Ok(Some(stored.receipt))
}

async fn receipt(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    cur: &PeriodRecord,
    metric: Metric,
    quantity: u64,
) -> Result<UsageReceipt, ServiceError> {
    let plan = catalog::get(ctx, &sub.product_id).await?;
    let quota = plan.as_ref().and_then(|p| p.quotas.get(&metric)).copied();
    let used = cur.used(metric).saturating_add(quantity);
    Ok(UsageReceipt {
        subscription_id: sub.subscription_id.clone(),
        metric,
        quantity,
        period: cur.period,
        used,
        limit: quota.map(|q| q.limit),
        resets_at: cur.end.rfc3339(),
        quota_spent: quota_spent(quota.as_ref(), used),
    })
}

/// The counter update, guarded by the version read and by the period being
/// open (the reset job closes it once it ends).
fn counter_write(sub: &SubscriptionRecord, cur: &PeriodRecord, metric: Metric, used: u64) -> Write {
    let mut changes = open_changes(sub, cur.period);
    changes.push(Change::Set(metric.as_str().into(), Value::from(used)));
    changes.push(Change::Set("version".into(), Value::from(cur.version + 1)));
    let version = if cur.version == 0 { Cond::Absent("version".into()) } else { Cond::eq("version", cur.version) };
    let open = Cond::Ne("closed".into(), json(&true));
    Write::Update {
        key: keys::usage_period(&sub.subscription_id, cur.period),
        changes,
        cond: Some(Cond::And(vec![version, open])),
    }
}
