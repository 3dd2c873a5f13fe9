//! Storage of merchant webhooks. Endpoints sit together under `HOOKS`
//! (a shop has a handful; fan-out reads them all). A delivery is one
//! event for one endpoint, under `HOOK#{endpoint}` / `DELIVERY#{event}`,
//! so a repeated fan-out finds it; while it waits for an attempt it is in
//! the `HOOKS_DUE` index by next attempt time. Each write of a delivery
//! checks its `version`, so two runners never both act on one.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::super::events::Envelope;
use super::super::items::{from_item, to_item};
use super::super::store::Pages;
use super::super::{Ctx, ServiceError, keys};
use crate::domain::Timestamp;
use crate::ports::{Change, Cond, Index, Key, Query, RecordError, SkRange, Write};

const ENDPOINTS_PK: &str = "HOOKS";
const DUE_INDEX: &str = "HOOKS_DUE";
const DELIVERY_PREFIX: &str = "DELIVERY#";
/// Deliveries are kept this long after their last change.
const TTL_DAYS: i64 = 30;
/// Attempts kept in a delivery's log (the newest).
const ATTEMPTS_KEPT: usize = 20;

pub fn endpoint_key(id: &str) -> Key {
    Key::new(ENDPOINTS_PK, format!("HOOK#{id}"))
}

pub fn delivery_key(endpoint_id: &str, event_id: &str) -> Key {
    Key::new(format!("HOOK#{endpoint_id}"), format!("{DELIVERY_PREFIX}{event_id}"))
}

/// A signing secret; `until` is set once a newer one replaced it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningSecret {
    pub secret: String,
    #[serde(default)]
    pub until: Option<Timestamp>,
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningSecret(whsec_***, until {:?})", self.until)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointRecord {
    pub id: String,
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
    /// Newest first.
    pub secrets: Vec<SigningSecret>,
    /// Rotations so far (a rotation checks it, so two at once cannot both win).
    pub rotations: u32,
    pub enabled: bool,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub disabled_at: Option<Timestamp>,
    /// The first failed attempt since the last success. Absent, not null,
    /// when there is none: `mark_failing` sets it only where it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// Deliveries that ran out of retries.
    #[serde(default)]
    pub exhausted: u32,
    pub created_at: Timestamp,
    pub created_by: String,
}

impl EndpointRecord {
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == "*" || e == kind)
    }

    /// The secrets that sign at `now`, newest first.
    pub fn signing(&self, now: Timestamp) -> impl Iterator<Item = &str> {
        self.secrets.iter().filter(move |s| s.until.is_none_or(|u| u > now)).map(|s| s.secret.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Gave up: retries ran out, or the endpoint answered 410.
    Failed,
    /// Not sent: the endpoint was disabled or deleted first.
    Dropped,
}

/// One try, as the deliveries log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Timestamp,
    /// The HTTP status, when the receiver answered.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub error: Option<String>,
    pub millis: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub endpoint_id: String,
    pub event_id: String,
    pub envelope: Envelope,
    pub status: DeliveryStatus,
    /// Failed attempts in the current series (a resend starts a new one).
    pub tries: u32,
    #[serde(default)]
    pub next_attempt: Option<Timestamp>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl DeliveryRecord {
    pub fn new(endpoint_id: &str, envelope: &Envelope, now: Timestamp) -> Self {
        DeliveryRecord {
            endpoint_id: endpoint_id.to_string(),
            event_id: envelope.id.clone(),
            envelope: envelope.clone(),
            status: DeliveryStatus::Pending,
            tries: 0,
            next_attempt: Some(now),
            attempts: Vec::new(),
            note: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    pub fn log(&mut self, attempt: Attempt) {
        self.attempts.push(attempt);
        let extra = self.attempts.len().saturating_sub(ATTEMPTS_KEPT);
        self.attempts.drain(..extra);
    }
}

fn delivery_item(rec: &DeliveryRecord) -> Result<crate::ports::Item, ServiceError> {
    let key = delivery_key(&rec.endpoint_id, &rec.event_id);
    let due = match (rec.status, rec.next_attempt) {
        (DeliveryStatus::Pending, Some(t)) => {
            Some((DUE_INDEX.to_string(), keys::sort_at(t, &format!("{}#{}", rec.endpoint_id, rec.event_id))))
        }
        _ => None,
    };
    Ok(to_item(&key, rec, due, Some(rec.updated_at.plus_days(TTL_DAYS).secs()))?)
}

// Endpoints.

pub async fn endpoints(ctx: &Ctx) -> Result<Vec<EndpointRecord>, ServiceError> {
    Pages::new(ctx, Query::new(Index::Table, ENDPOINTS_PK)).read_all().await
}

pub async fn endpoint(ctx: &Ctx, id: &str) -> Result<Option<EndpointRecord>, ServiceError> {
    match ctx.records.get(&endpoint_key(id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

pub async fn create_endpoint(ctx: &Ctx, rec: &EndpointRecord) -> Result<(), ServiceError> {
    let item = to_item(&endpoint_key(&rec.id), rec, None, None)?;
    ctx.records.put(item, Some(Cond::NotExists)).await?;
    Ok(())
}

/// Deletes it; false if there was none.
pub async fn delete_endpoint(ctx: &Ctx, id: &str) -> Result<bool, ServiceError> {
    match ctx.records.delete(&endpoint_key(id), Some(Cond::Exists)).await {
        Ok(()) => Ok(true),
        Err(RecordError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Stores the secrets of a rotation, if nobody rotated since `rec` was
/// read (a concurrent rotation loses, and is told to retry).
pub async fn rotate(ctx: &Ctx, rec: &EndpointRecord, secrets: &[SigningSecret]) -> Result<(), ServiceError> {
    let id = rec.id.as_str();
    let changes = vec![
        Change::Set("secrets".into(), serde_json::to_value(secrets).map_err(ServiceError::internal)?),
        Change::Add("rotations".into(), 1),
    ];
    match ctx.records.update(&endpoint_key(id), changes, Some(Cond::eq("rotations", rec.rotations))).await {
        Ok(_) => Ok(()),
        Err(RecordError::ConditionFailed { .. }) => {
            Err(ServiceError::Conflict("the endpoint changed or was deleted meanwhile".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Notes the first failure since the last success (once).
pub async fn mark_failing(ctx: &Ctx, id: &str, now: Timestamp) -> Result<(), ServiceError> {
    let changes = vec![Change::Set("failing_since".into(), now.millis().into())];
    let cond = Cond::And(vec![Cond::Exists, Cond::Absent("failing_since".into())]);
    ignore_condition(ctx.records.update(&endpoint_key(id), changes, Some(cond)).await)
}

pub async fn clear_failing(ctx: &Ctx, id: &str) -> Result<(), ServiceError> {
    let changes = vec![Change::Remove("failing_since".into())];
    ignore_condition(ctx.records.update(&endpoint_key(id), changes, Some(Cond::Exists)).await)
}

/// Counts one more delivery that ran out of retries; the new count.
pub async fn add_exhausted(ctx: &Ctx, id: &str) -> Result<u32, ServiceError> {
    match ctx.records.update(&endpoint_key(id), vec![Change::Add("exhausted".into(), 1)], Some(Cond::Exists)).await {
        Ok(item) => Ok(item.get("exhausted").and_then(|v| v.as_u64()).unwrap_or(0) as u32),
        Err(RecordError::ConditionFailed { .. }) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Disables it; true only for the call that did (so it is reported once).
/// Disables an enabled endpoint (refused when it is not).
pub fn disable(id: &str, reason: &str, now: Timestamp) -> Write {
    let changes = vec![
        Change::Set("enabled".into(), false.into()),
        Change::Set("disabled_reason".into(), reason.into()),
        Change::Set("disabled_at".into(), now.millis().into()),
    ];
    Write::Update { key: endpoint_key(id), changes, cond: Some(Cond::eq("enabled", true)) }
}

fn ignore_condition<T>(r: Result<T, RecordError>) -> Result<(), ServiceError> {
    match r {
        Ok(_) | Err(RecordError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

// Deliveries.

/// Stores a new delivery; false if this endpoint already has this event.
pub async fn create_delivery(ctx: &Ctx, rec: &DeliveryRecord) -> Result<bool, ServiceError> {
    match ctx.records.put(delivery_item(rec)?, Some(Cond::NotExists)).await {
        Ok(()) => Ok(true),
        Err(RecordError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Writes `rec` with the next version, if nobody wrote it since it was
/// read; false if somebody did (the caller leaves it to them).
pub async fn save_delivery(ctx: &Ctx, rec: &mut DeliveryRecord) -> Result<bool, ServiceError> {
    let read = rec.version;
    rec.version += 1;
    let cond = Cond::Eq("version".into(), read.into());
    match ctx.records.put(delivery_item(rec)?, Some(cond)).await {
        Ok(()) => Ok(true),
        Err(RecordError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn delivery(ctx: &Ctx, endpoint_id: &str, event_id: &str) -> Result<Option<DeliveryRecord>, ServiceError> {
    match ctx.records.get(&delivery_key(endpoint_id, event_id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Deliveries whose next attempt is at or before `now`, oldest first.
pub async fn due(ctx: &Ctx, now: Timestamp, limit: usize) -> Result<Vec<DeliveryRecord>, ServiceError> {
    let q = Query::new(Index::Gsi1, DUE_INDEX).sk(keys::up_to(keys::sort_at(now, "~"))).limit(limit);
    let page = ctx.records.query(q).await?;
    page.items.into_iter().map(|i| from_item(i).map_err(ServiceError::from)).collect()
}

/// One page of an endpoint's deliveries, newest event first.
pub async fn deliveries(
    ctx: &Ctx,
    endpoint_id: &str,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<DeliveryRecord>, Option<String>), ServiceError> {
    let q = Query::new(Index::Table, delivery_key(endpoint_id, "").pk)
        .sk(SkRange::Prefix(DELIVERY_PREFIX.into()))
        .descending()
        .limit(limit)
        .after(cursor.clone());
    let page = match ctx.records.query(q).await {
        Err(RecordError::Invalid(_)) if cursor.is_some() => {
            return Err(ServiceError::BadInput("cursor is not one this API gave out".into()));
        }
        other => other?,
    };
    let recs = page.items.into_iter().map(|i| from_item(i).map_err(ServiceError::from)).collect::<Result<_, _>>()?;
    Ok((recs, page.next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::records::TTL;

    #[test]
    fn only_a_pending_delivery_is_in_the_due_index_and_all_expire() {
        let env =
            Envelope { id: "e1".into(), kind: "stock.low".into(), timestamp: "t".into(), data: Default::default() };
        let mut rec = DeliveryRecord::new("ep", &env, Timestamp::from_secs(100));
        let item = delivery_item(&rec).unwrap();
        assert_eq!(item["gsi1pk"], "HOOKS_DUE");
        assert_eq!(item[TTL], serde_json::json!(100 + 30 * 86_400));
        rec.status = DeliveryStatus::Delivered;
        assert!(!delivery_item(&rec).unwrap().contains_key("gsi1pk"));
    }

    #[test]
    fn the_log_keeps_the_newest_attempts_and_secrets_never_print() {
        let env =
            Envelope { id: "e1".into(), kind: "stock.low".into(), timestamp: "t".into(), data: Default::default() };
        let mut rec = DeliveryRecord::new("ep", &env, Timestamp(0));
        for n in 0..25 {
            rec.log(Attempt { at: Timestamp(n), status: Some(500), error: None, millis: 1 });
        }
        assert_eq!(rec.attempts.len(), ATTEMPTS_KEPT);
        assert_eq!(rec.attempts[0].at, Timestamp(5));
        let s = SigningSecret { secret: "whsec_topsecret".into(), until: None };
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
