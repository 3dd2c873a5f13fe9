//! Usage under a subscription's partition: one record per 30-day period
//! (`USAGE#{n:06}`, in the `USAGE_DUE` index by end while open), report
//! receipts (`USAGEKEY#{hash}`) and daily seat snapshots (`SEATS#{day}`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::subscriptions::{SubscriptionRecord, pk};
use super::{Pages, put_new, read};
use super::{sort_at, up_to};
use crate::domain::Timestamp;
use crate::domain::usage::{Metric, period_bounds};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};
use crate::services::items::{to_item, value};
use crate::services::{Ctx, ServiceError};

/// One 30-day usage period (times in epoch milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

const PERIOD_PREFIX: &str = "USAGE#";
const DUE_INDEX: &str = "USAGE_DUE";
const VERSION: &str = "version";
const CLOSED: &str = "closed";

fn key(subscription_id: &str, n: u64) -> Key {
    Key::new(pk(subscription_id), format!("{PERIOD_PREFIX}{n:06}"))
}

pub async fn get(ctx: &Ctx, subscription_id: &str, n: u64) -> Result<Option<PeriodRecord>, ServiceError> {
    read(ctx, &key(subscription_id, n)).await
}

/// A subscription's periods, newest first.
pub fn history<'a>(ctx: &'a Ctx, subscription_id: &str) -> Pages<'a, PeriodRecord> {
    let q = Query::new(Index::Table, pk(subscription_id)).sk(SkRange::Prefix(PERIOD_PREFIX.into()));
    Pages::new(ctx, q.descending().limit(100))
}

/// Open periods that ended by `now` (the index may lag: re-check).
pub fn due(ctx: &Ctx, now: Timestamp) -> Pages<'_, PeriodRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, DUE_INDEX).sk(up_to(sort_at(now, "~"))).limit(100))
}

/// What identifies period `n`, and its place in the due index. Every write
/// to a period carries these, so whichever comes first (a report, a
/// snapshot, the reset job) creates it whole.
fn opening(sub: &SubscriptionRecord, n: u64) -> Result<Vec<Change>, ServiceError> {
    let (start, end) = period_bounds(sub.created_at, n);
    Ok(vec![
        Change::Set("subscription_id".into(), sub.subscription_id.clone().into()),
        Change::Set("period".into(), Value::from(n)),
        Change::Set("start".into(), value(&start)?),
        Change::Set("end".into(), value(&end)?),
        Change::Set(GSI1PK.into(), DUE_INDEX.into()),
        Change::Set(GSI1SK.into(), sort_at(end, &sub.subscription_id).into()),
    ])
}

fn not_closed() -> Cond {
    Cond::Ne(CLOSED.into(), Value::Bool(true))
}

/// Period `n` opened (or left as it is), unless it closed.
pub fn open(sub: &SubscriptionRecord, n: u64) -> Result<Write, ServiceError> {
    Ok(Write::Update { key: key(&sub.subscription_id, n), changes: opening(sub, n)?, cond: Some(not_closed()) })
}

/// `metric` at `used` in `cur`, onto the version read and while it is open.
pub fn count(sub: &SubscriptionRecord, cur: &PeriodRecord, metric: Metric, used: u64) -> Result<Write, ServiceError> {
    let mut changes = opening(sub, cur.period)?;
    changes.push(Change::Set(metric.as_str().into(), Value::from(used)));
    changes.push(Change::Set(VERSION.into(), Value::from(cur.version + 1)));
    let version = if cur.version == 0 { Cond::Absent(VERSION.into()) } else { Cond::eq(VERSION, cur.version) };
    let cond = Cond::And(vec![version, not_closed()]);
    Ok(Write::Update { key: key(&sub.subscription_id, cur.period), changes, cond: Some(cond) })
}

/// `seats` more seat-days in period `n`, while it is open.
pub fn add_seat_days(sub: &SubscriptionRecord, n: u64, seats: u64) -> Result<Write, ServiceError> {
    let mut changes = opening(sub, n)?;
    changes.push(Change::Add("seat_days".into(), seats as i64));
    Ok(Write::Update { key: key(&sub.subscription_id, n), changes, cond: Some(not_closed()) })
}

/// Closes `p` once (it leaves the due index; its totals stay).
pub fn close(p: &PeriodRecord, now: Timestamp) -> Result<Write, ServiceError> {
    let changes = vec![
        Change::Set(CLOSED.into(), Value::Bool(true)),
        Change::Set("closed_at".into(), value(&now)?),
        Change::Remove(GSI1PK.into()),
        Change::Remove(GSI1SK.into()),
    ];
    let cond = Cond::And(vec![Cond::Exists, not_closed()]);
    Ok(Write::Update { key: key(&p.subscription_id, p.period), changes, cond: Some(cond) })
}

/// A usage report's idempotency key, scoped to its subscription.
fn report_key(subscription_id: &str, idempotency_key: &str) -> Key {
    let h = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    Key::new(pk(subscription_id), format!("USAGEKEY#{h}"))
}

/// What a report under `idempotency_key` stored, if it was seen.
pub async fn report<T: DeserializeOwned>(
    ctx: &Ctx,
    sub: &str,
    idempotency_key: &str,
) -> Result<Option<T>, ServiceError> {
    read(ctx, &report_key(sub, idempotency_key)).await
}

/// A report's receipt under its key, once; kept until `ttl_secs`.
pub fn put_report<T: Serialize>(
    sub: &str,
    idempotency_key: &str,
    stored: &T,
    ttl_secs: i64,
) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&report_key(sub, idempotency_key), stored, None, Some(ttl_secs))?))
}

/// A subscription's seats on one day (days since the epoch).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub subscription_id: String,
    pub day: i64,
    pub seats: u64,
    pub period: u64,
}

fn snapshot_key(subscription_id: &str, day: i64) -> Key {
    Key::new(pk(subscription_id), format!("SEATS#{day:08}"))
}

/// The day's snapshot, once.
pub fn put_snapshot(s: &Snapshot) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&snapshot_key(&s.subscription_id, s.day), s, None, None)?))
}

pub async fn snapshot(ctx: &Ctx, subscription_id: &str, day: i64) -> Result<Option<Snapshot>, ServiceError> {
    read(ctx, &snapshot_key(subscription_id, day)).await
}
