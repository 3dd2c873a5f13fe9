//! `POST /subscriptions/{id}/usage`: one transaction writes the report's key
//! (must be new), the period counter (version-locked, period still open) and
//! checks that the subscription has not ended.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::periods::{self, PeriodRecord};
use crate::domain::usage::{Metric, parse_quantity, quota_spent};
use crate::domain::{IdempotencyKey, SubscriptionState, subscription_state};
use crate::ports::RecordError;
use crate::services::retry::{Step, retry};
use crate::services::store::subscriptions::{self as subs, SubscriptionRecord};
use crate::services::store::usage;
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError, catalog, subscriptions};

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

/// The writes of a report, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The report's key: counted by a concurrent request with it.
    Receipt,
    /// The period counter: another report moved it, or the period closed.
    Counter,
    /// The subscription ended meanwhile.
    Subscription,
}

/// Report keys are kept this long (the bot engine retries within hours).
const KEY_TTL_DAYS: i64 = 60;

pub async fn record(ctx: &Ctx, id: &str, req: ReportRequest) -> Result<UsageReceipt, UsageError> {
    let bad = |e: crate::domain::ParseError| ServiceError::BadInput(e.to_string());
    let metric = Metric::parse(&req.metric).map_err(bad)?;
    let quantity = parse_quantity(req.quantity).map_err(bad)?;
    let key = IdempotencyKey::parse(&req.idempotency_key).map_err(bad)?;
    let hash = hex::encode(Sha256::digest(format!("{}\n{quantity}", metric.as_str())));
    let key = key.as_str();
    let ended = retry("usage counter", || async {
        if let Some(done) = replay(ctx, id, key, &hash).await? {
            return Ok(Step::Done(Ok(done)));
        }
        let sub = subscriptions::load(ctx, id).await?;
        let state = subscription_state(sub.valid_until, sub.ended, ctx.clock.now());
        if matches!(state, SubscriptionState::Expired | SubscriptionState::Revoked) {
            return Ok(Step::Done(Err(state)));
        }
        let n = periods::current(ctx, &sub);
        let cur = periods::load(ctx, &sub, n).await?;
        let receipt = receipt(ctx, &sub, &cur, metric, quantity).await?;
        let stored = Stored { request_hash: hash.clone(), receipt: receipt.clone() };
        let ttl = ctx.clock.now().plus_days(KEY_TTL_DAYS).secs();
        let mut tx = Tx::new();
        tx.push(Part::Receipt, usage::put_report(id, key, &stored, ttl)?)
            .push(Part::Counter, usage::count(&sub, &cur, metric, receipt.used)?)
            .push(Part::Subscription, subs::check_not_ended(id));
        match tx.commit(ctx).await? {
            Commit::Done => Ok(Step::Done(Ok(receipt))),
            Commit::Refused(Part::Subscription) => {
                let sub = subscriptions::load(ctx, id).await?;
                Ok(Step::Done(Err(subscription_state(sub.valid_until, sub.ended, ctx.clock.now()))))
            }
            // Counted under this key meanwhile (the replay answers as it
            // did), or the counter moved: again.
            Commit::Refused(Part::Receipt | Part::Counter) => Ok(Step::Again),
        }
    })
    .await
    .map_err(|e| match e {
        ServiceError::Conflict(_) => ServiceError::Conflict("usage counter is busy; retry with the same key".into()),
        e => e,
    })?;
    ended.map_err(|state| UsageError::Ended(id.to_string(), state))
}

/// The stored receipt for a key seen before; 422 when its body differed.
async fn replay(ctx: &Ctx, id: &str, key: &str, hash: &str) -> Result<Option<UsageReceipt>, ServiceError> {
    let Some(stored) = usage::report::<Stored>(ctx, id, key).await? else { return Ok(None) };
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
