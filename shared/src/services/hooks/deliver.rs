//! Sending deliveries that are due: each signed afresh (same `webhook-id`,
//! new timestamp and signature), 5 s at most, eight endpoints at once,
//! one attempt at a time per endpoint. An endpoint that fails is left until
//! its retry, so one slow or dead receiver costs one slot for 5 s; its other
//! deliveries in the run move back to that retry too, out of the head of
//! the due index, so a dead endpoint's backlog cannot keep every other
//! endpoint's deliveries out of the next run's read.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use super::super::backoff;
use super::records::{self, Attempt, DeliveryRecord, DeliveryStatus, EndpointRecord};
use super::{on_endpoint_disabled, sign};
use crate::domain::Timestamp;
use crate::ports::clock::{Clock, SystemClock};
use crate::ports::{Answer, Outgoing};
use crate::services::{Ctx, ServiceError};

/// Per attempt, connection and answer included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Endpoints served at once.
const AT_ONCE: usize = 8;
/// Due deliveries read per run.
const BATCH: usize = 200;
/// A claimed delivery comes due again after this if its runner died.
const LEASE_MILLIS: i64 = 60_000;
/// An endpoint failing this long without a success is disabled.
pub const DISABLE_AFTER_DAYS: i64 = 5;
/// An endpoint with this many deliveries that ran out of retries is disabled.
pub const DISABLE_AFTER_EXHAUSTED: u32 = 3;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    pub due: u32,
    pub delivered: u32,
    /// Failed and scheduled again.
    pub retrying: u32,
    /// Failed for good (retries ran out, or 410).
    pub failed: u32,
    /// Not sent: their endpoint was disabled or deleted.
    pub dropped: u32,
    /// Not tried: their endpoint failed earlier in this run. Put back until
    /// its next attempt (left to be dropped, if it was disabled).
    pub deferred: u32,
    pub endpoints_disabled: u32,
    /// Storage failures (logged; the deliveries stay due).
    pub errors: u32,
}

impl DeliveryReport {
    fn add(&mut self, o: &DeliveryReport) {
        self.delivered += o.delivered;
        self.retrying += o.retrying;
        self.failed += o.failed;
        self.dropped += o.dropped;
        self.deferred += o.deferred;
        self.endpoints_disabled += o.endpoints_disabled;
        self.errors += o.errors;
    }
}

/// The job step: sends every delivery that is due.
pub async fn deliver_due(ctx: &Ctx) -> Result<DeliveryReport, ServiceError> {
    let now = ctx.clock.now();
    let due = records::due(ctx, now, BATCH).await?;
    let endpoints: HashMap<String, EndpointRecord> =
        records::endpoints(ctx).await?.into_iter().map(|e| (e.id.clone(), e)).collect();
    let mut lanes: BTreeMap<String, Vec<DeliveryRecord>> = BTreeMap::new();
    for d in due {
        lanes.entry(d.endpoint_id.clone()).or_default().push(d);
    }
    let mut report = DeliveryReport { due: lanes.values().map(|l| l.len() as u32).sum(), ..Default::default() };
    let runs = futures_util::stream::iter(lanes)
        .map(|(id, lane)| run_lane(ctx, endpoints.get(&id), lane))
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    for r in &runs {
        report.add(r);
    }
    Ok(report)
}

/// One endpoint's due deliveries, one after another, until one fails;
/// then the rest wait for that one's retry.
async fn run_lane(ctx: &Ctx, endpoint: Option<&EndpointRecord>, lane: Vec<DeliveryRecord>) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    let mut lane = lane.into_iter();
    let mut resume_at = None;
    for d in lane.by_ref() {
        let (event, endpoint_id) = (d.event_id.clone(), d.endpoint_id.clone());
        match try_once(ctx, endpoint, d).await {
            Ok((r, retry_at)) => {
                report.add(&r);
                if r.retrying + r.failed > 0 {
                    // A disabled endpoint's others are dropped next run, as they are.
                    if r.endpoints_disabled == 0 {
                        resume_at = Some(retry_at.unwrap_or_else(|| ctx.clock.now().plus_millis(LEASE_MILLIS)));
                    }
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = ?e, %event, endpoint = %endpoint_id, "webhook delivery step failed");
                report.errors += 1;
                resume_at = Some(ctx.clock.now().plus_millis(LEASE_MILLIS));
                break;
            }
        }
    }
    // Whatever is left was not tried: its endpoint failed just now.
    for mut d in lane {
        report.deferred += 1;
        let Some(at) = resume_at else { continue };
        if let Err(e) = postpone(ctx, &mut d, at).await {
            tracing::error!(error = ?e, event = %d.event_id, endpoint = %d.endpoint_id, "could not postpone a delivery");
            report.errors += 1;
        }
    }
    report
}

/// The note of a delivery moved back untried (cleared once it is tried).
const WAITING: &str = "waiting: an earlier delivery to this endpoint failed";

/// Moves a delivery that was not tried back to `at` (no attempt counted).
/// Left alone if somebody changed it meanwhile.
async fn postpone(ctx: &Ctx, d: &mut DeliveryRecord, at: Timestamp) -> Result<(), ServiceError> {
    d.next_attempt = Some(at);
    d.note = Some(WAITING.into());
    d.updated_at = ctx.clock.now();
    records::save_delivery(ctx, d).await.map(|_| ())
}

/// Claims `d`, sends it once and records what happened.
pub(super) async fn attempt(
    ctx: &Ctx,
    endpoint: Option<&EndpointRecord>,
    d: DeliveryRecord,
) -> Result<DeliveryReport, ServiceError> {
    try_once(ctx, endpoint, d).await.map(|(report, _)| report)
}

/// `attempt`, and when it is retried.
async fn try_once(
    ctx: &Ctx,
    endpoint: Option<&EndpointRecord>,
    mut d: DeliveryRecord,
) -> Result<(DeliveryReport, Option<Timestamp>), ServiceError> {
    let mut report = DeliveryReport::default();
    let now = ctx.clock.now();
    let Some(ep) = endpoint.filter(|e| e.enabled) else {
        d.status = DeliveryStatus::Dropped;
        d.next_attempt = None;
        d.note = Some(match endpoint {
            Some(_) => "the endpoint is disabled".into(),
            None => "the endpoint was deleted".into(),
        });
        d.updated_at = now;
        if records::save_delivery(ctx, &mut d).await? {
            report.dropped = 1;
        }
        return Ok((report, None));
    };
    // The claim: due again only after the lease, should this runner die.
    d.next_attempt = Some(now.plus_millis(LEASE_MILLIS));
    d.updated_at = now;
    if d.note.as_deref() == Some(WAITING) {
        d.note = None;
    }
    if !records::save_delivery(ctx, &mut d).await? {
        return Ok((report, None)); // another runner has it
    }
    let started = Instant::now();
    let result = send(ctx, ep, &d).await;
    let millis = started.elapsed().as_millis() as u64;
    let now = ctx.clock.now();
    d.updated_at = now;
    let (status, retry_after, error) = match &result {
        Ok(Answer { status, retry_after }) => (Some(*status), *retry_after, None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    d.log(Attempt { at: now, status, error, millis });
    match status {
        Some(s) if (200..300).contains(&s) => {
            d.status = DeliveryStatus::Delivered;
            d.next_attempt = None;
            d.note = None;
            report.delivered = 1;
        }
        Some(410) => {
            d.status = DeliveryStatus::Failed;
            d.next_attempt = None;
            d.note = Some("the endpoint answered 410 Gone and was disabled".into());
            report.failed = 1;
        }
        _ => {
            d.tries += 1;
            match backoff::delay_millis(d.tries, retry_after, rand::random::<f64>()) {
                Some(wait) => {
                    d.next_attempt = Some(now.plus_millis(wait));
                    report.retrying = 1;
                }
                None => {
                    d.status = DeliveryStatus::Failed;
                    d.next_attempt = None;
                    d.note = Some(format!("gave up after {} attempts", d.tries));
                    report.failed = 1;
                }
            }
        }
    }
    if !records::save_delivery(ctx, &mut d).await? {
        tracing::warn!(event = %d.event_id, endpoint = %ep.id, "delivery changed while it was being sent");
    }
    report.endpoints_disabled = u32::from(endpoint_health(ctx, ep, &d, status, now).await?);
    Ok((report, d.next_attempt.filter(|_| d.status == DeliveryStatus::Pending)))
}

/// The signed POST of one delivery.
async fn send(ctx: &Ctx, ep: &EndpointRecord, d: &DeliveryRecord) -> Result<Answer, crate::ports::SendError> {
    let failed = |e: String| crate::ports::SendError::Failed(e);
    let body =
        serde_json::to_vec(&Body { kind: &d.envelope.kind, timestamp: &d.envelope.timestamp, data: &d.envelope.data })
            .map_err(|e| failed(format!("encoding the body: {e}")))?;
    // Real time, not the business clock: the receiver checks it against its own.
    let ts = SystemClock.now().secs();
    let signature = sign::signature_header(ep.signing(ctx.clock.now()), &d.event_id, ts, &body)
        .map_err(|e| failed(format!("signing: {e}")))?;
    let headers = vec![
        ("content-type".into(), "application/json".into()),
        ("user-agent".into(), "Stockroom-Webhooks/1".into()),
        ("webhook-id".into(), d.event_id.clone()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), signature),
    ];
    ctx.webhook_sender.post(Outgoing { url: ep.url.clone(), headers, body, timeout: TIMEOUT }).await
}

/// The body as API.md has it: `{type, timestamp, data}`.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: &'a str,
    data: &'a serde_json::Value,
}

/// Success clears the endpoint's failing mark; 410, failing for days or
/// too many exhausted deliveries disable it. True if this call disabled it.
async fn endpoint_health(
    ctx: &Ctx,
    ep: &EndpointRecord,
    d: &DeliveryRecord,
    status: Option<u16>,
    now: Timestamp,
) -> Result<bool, ServiceError> {
    let why = match status {
        Some(s) if (200..300).contains(&s) => {
            if ep.failing_since.is_some() {
                records::clear_failing(ctx, &ep.id).await?;
            }
            return Ok(false);
        }
        Some(410) => Some("it answered 410 Gone".to_string()),
        _ => {
            records::mark_failing(ctx, &ep.id, now).await?;
            let exhausted =
                if d.status == DeliveryStatus::Failed { records::add_exhausted(ctx, &ep.id).await? } else { 0 };
            let since = ep.failing_since.filter(|t| now.millis() - t.millis() > DISABLE_AFTER_DAYS * 86_400_000);
            if let Some(t) = since {
                Some(format!("every attempt failed since {t}"))
            } else if exhausted >= DISABLE_AFTER_EXHAUSTED {
                Some(format!("{exhausted} deliveries ran out of retries"))
            } else {
                None
            }
        }
    };
    let Some(why) = why else { return Ok(false) };
    on_endpoint_disabled(ctx, ep, &why, now).await
}
