//! Endpoint management: create (the secret shown once), list, delete,
//! rotate, the deliveries log, resend and a test event.

use serde::{Deserialize, Serialize};

use super::deliver;
use super::records::{self, DeliveryRecord, DeliveryStatus, EndpointRecord, SigningSecret};
use super::{EVENT_TYPES, TEST_EVENT, shown_url, sign};
use crate::ports::SendError;
use crate::services::events::Envelope;
use crate::services::store::outbox;
use crate::services::{Ctx, ServiceError};

/// Endpoints one shop may have (fan-out reads them all per event).
pub const MAX_ENDPOINTS: usize = 20;
const MAX_URL: usize = 2048;
/// How long a replaced secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// https (http only where private addresses are allowed: the local
    /// stack). No user name or password: deliveries are verified by their
    /// signature. Shown whole only in the endpoint listing; elsewhere
    /// (alerts, logs) without its query and fragment.
    pub url: String,
    /// Event types to receive, or `["*"]` for all.
    pub events: Vec<String>,
}

/// An endpoint as listed (never its secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why it was disabled (410 Gone, failing for days).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// The first failed attempt since the last success (RFC 3339).
    pub failing_since: Option<String>,
    pub created_at: String,
}

impl From<&EndpointRecord> for EndpointView {
    fn from(e: &EndpointRecord) -> Self {
        EndpointView {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.events.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: e.disabled_at.map(|t| t.rfc3339()),
            failing_since: e.failing_since.map(|t| t.rfc3339()),
            created_at: e.created_at.rfc3339(),
        }
    }
}

/// The answer of create: the only time the secret is shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_` + base64: keep it, it is not shown again.
    pub secret: String,
}

/// One attempt in the deliveries log.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why there was no answer (timeout, refused address, ...).
    pub error: Option<String>,
    pub millis: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: DeliveryStatus,
    /// Failed attempts in the current series.
    pub tries: u32,
    /// The newest 20, oldest first.
    pub attempts: Vec<AttemptView>,
    pub next_attempt: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        DeliveryView {
            event_id: d.event_id.clone(),
            kind: d.envelope.kind.clone(),
            status: d.status,
            tries: d.tries,
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptView { at: a.at.rfc3339(), status: a.status, error: a.error.clone(), millis: a.millis })
                .collect(),
            next_attempt: d.next_attempt.filter(|_| d.status == DeliveryStatus::Pending).map(|t| t.rfc3339()),
            note: d.note.clone(),
            created_at: d.created_at.rfc3339(),
        }
    }
}

/// Checks the event list: known types or `*`, at least one; duplicates
/// dropped, order kept.
fn event_list(events: &[String]) -> Result<Vec<String>, ServiceError> {
    if events.is_empty() {
        return Err(ServiceError::BadInput("events must name at least one event type, or \"*\"".into()));
    }
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
            return Err(ServiceError::BadInput(format!(
                "unknown event type {e:?}; known: {} (or \"*\" for all)",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if out.len() > 1 && out.iter().any(|e| e == "*") {
        return Err(ServiceError::BadInput("\"*\" already means every type; list it alone".into()));
    }
    Ok(out)
}

/// Checks the URL where it points now (scheme, every address of its host).
/// No user name or password in it: deliveries prove who sent them by their
/// signature, and a credential in the URL would sit in every copy of it.
async fn check_url(ctx: &Ctx, url: &str) -> Result<String, ServiceError> {
    let url = url.trim();
    if url.is_empty() || url.len() > MAX_URL {
        return Err(ServiceError::BadInput(format!("url must be 1 to {MAX_URL} characters")));
    }
    if reqwest::Url::parse(url).is_ok_and(|u| !u.username().is_empty() || u.password().is_some()) {
        return Err(ServiceError::BadInput(
            "url refused: it carries a user name or password; receivers verify deliveries by their \
             webhook-signature header"
                .into(),
        ));
    }
    match ctx.webhook_sender.check(url).await {
        Ok(()) => Ok(url.to_string()),
        Err(SendError::Refused(why)) => Err(ServiceError::BadInput(format!("url refused: {why}"))),
        Err(SendError::Failed(why)) => Err(ServiceError::BadInput(format!("url cannot be reached: {why}"))),
    }
}

pub async fn create(ctx: &Ctx, req: &NewEndpoint, actor: &str) -> Result<CreatedEndpoint, ServiceError> {
    let events = event_list(&req.events)?;
    let url = check_url(ctx, &req.url).await?;
    if records::endpoints(ctx).await?.len() >= MAX_ENDPOINTS {
        return Err(ServiceError::BadInput(format!("at most {MAX_ENDPOINTS} endpoints; delete one first")));
    }
    let secret = sign::new_secret();
    let rec = EndpointRecord {
        id: ctx.ids.next_id(),
        url,
        events,
        secrets: vec![SigningSecret { secret: secret.clone(), until: None }],
        rotations: 0,
        enabled: true,
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        exhausted: 0,
        created_at: ctx.clock.now(),
        created_by: actor.to_string(),
    };
    records::create_endpoint(ctx, &rec).await?;
    tracing::info!(endpoint = %rec.id, url = %shown_url(&rec.url), %actor, "webhook endpoint created");
    Ok(CreatedEndpoint { id: rec.id, url: rec.url, events: rec.events, secret })
}

pub async fn list(ctx: &Ctx) -> Result<Vec<EndpointView>, ServiceError> {
    Ok(records::endpoints(ctx).await?.iter().map(EndpointView::from).collect())
}

async fn existing(ctx: &Ctx, id: &str) -> Result<EndpointRecord, ServiceError> {
    records::endpoint(ctx, id).await?.ok_or_else(|| ServiceError::NotFound(format!("no webhook endpoint {id}")))
}

/// Deletes it; its pending deliveries are dropped when they come due.
pub async fn delete(ctx: &Ctx, id: &str, actor: &str) -> Result<(), ServiceError> {
    if !records::delete_endpoint(ctx, id).await? {
        return Err(ServiceError::NotFound(format!("no webhook endpoint {id}")));
    }
    tracing::info!(endpoint = %id, %actor, "webhook endpoint deleted");
    Ok(())
}

/// A new secret; the ones before keep signing for `ROTATION_OVERLAP_HOURS`
/// (and those already past that stop).
pub async fn rotate(ctx: &Ctx, id: &str, actor: &str) -> Result<String, ServiceError> {
    let rec = existing(ctx, id).await?;
    let now = ctx.clock.now();
    let until = now.plus_secs(ROTATION_OVERLAP_HOURS * 3600);
    let secret = sign::new_secret();
    let mut secrets = vec![SigningSecret { secret: secret.clone(), until: None }];
    secrets.extend(
        rec.secrets
            .iter()
            .filter(|s| s.until.is_none_or(|u| u > now))
            .map(|s| SigningSecret { secret: s.secret.clone(), until: Some(s.until.map_or(until, |u| u.min(until))) }),
    );
    records::rotate(ctx, &rec, &secrets).await?;
    tracing::info!(endpoint = %id, %actor, "webhook secret rotated");
    Ok(secret)
}

/// One page of the deliveries log, newest event first.
pub async fn deliveries(
    ctx: &Ctx,
    id: &str,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<DeliveryView>, Option<String>), ServiceError> {
    existing(ctx, id).await?;
    let (recs, next) = records::deliveries(ctx, id, limit, cursor).await?;
    Ok((recs.iter().map(DeliveryView::from).collect(), next))
}

/// Sends a `webhook.test` event to this endpoint now (and, should it fail,
/// on the usual schedule); the delivery as it stands after the attempt.
pub async fn test(ctx: &Ctx, id: &str, actor: &str) -> Result<DeliveryView, ServiceError> {
    let ep = existing(ctx, id).await?;
    if !ep.enabled {
        return Err(ServiceError::Conflict(format!("endpoint {id} is disabled")));
    }
    let now = ctx.clock.now();
    let env = Envelope {
        id: ctx.ids.next_id(),
        kind: TEST_EVENT.into(),
        timestamp: now.rfc3339(),
        data: serde_json::json!({"endpoint_id": id, "requested_by": actor}),
    };
    let d = DeliveryRecord::new(id, &env, now);
    records::create_delivery(ctx, &d).await?;
    deliver::attempt(ctx, Some(&ep), d).await?;
    let after = records::delivery(ctx, id, &env.id).await?;
    after
        .as_ref()
        .map(DeliveryView::from)
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("test delivery vanished")))
}

/// What a resend did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Resent {
    pub event_id: String,
    /// Endpoints the event is on its way to again.
    pub endpoints: u32,
}

/// Re-delivers an event some delivery of which is on record (the envelope
/// is kept with it) to every endpoint that would get it now and
/// to every one that had it: a new series, the same `webhook-id`.
pub async fn resend(ctx: &Ctx, event_id: &str) -> Result<Resent, ServiceError> {
    let endpoints = records::endpoints(ctx).await?;
    let mut had = Vec::new();
    let mut envelope = None;
    for ep in &endpoints {
        if let Some(d) = records::delivery(ctx, &ep.id, event_id).await? {
            envelope.get_or_insert(d.envelope.clone());
            had.push(d);
        }
    }
    // No endpoint had it (none wanted it then, or it came before them):
    // the event log has it for 35 days.
    let env = match envelope {
        Some(env) => env,
        None => match outbox::get(ctx, event_id).await? {
            Some(item) => Envelope::from(item),
            None => return Err(ServiceError::NotFound(format!("no event {event_id} is on record"))),
        },
    };
    let n = resend_to(ctx, &endpoints, &env, had).await?;
    Ok(Resent { event_id: event_id.to_string(), endpoints: n })
}

async fn resend_to(
    ctx: &Ctx,
    endpoints: &[EndpointRecord],
    env: &Envelope,
    had: Vec<DeliveryRecord>,
) -> Result<u32, ServiceError> {
    let now = ctx.clock.now();
    let mut n = 0;
    for ep in endpoints.iter().filter(|e| e.enabled) {
        let before = had.iter().find(|d| d.endpoint_id == ep.id);
        if before.is_none() && !ep.wants(&env.kind) {
            continue;
        }
        let ok = match before {
            Some(d) => {
                let mut d = d.clone();
                d.status = DeliveryStatus::Pending;
                d.tries = 0;
                d.next_attempt = Some(now);
                d.note = Some("resent by staff".into());
                d.updated_at = now;
                records::save_delivery(ctx, &mut d).await?
            }
            None => records::create_delivery(ctx, &DeliveryRecord::new(&ep.id, env, now)).await?,
        };
        if !ok {
            return Err(ServiceError::Conflict("a delivery of this event changed meanwhile; try again".into()));
        }
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_are_checked() {
        let v = |s: &[&str]| event_list(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert!(v(&[]).is_err());
        assert!(v(&["order.nope"]).is_err());
        assert!(v(&["*", "order.paid"]).is_err());
        assert_eq!(v(&["order.paid", "order.paid", "stock.low"]).unwrap(), vec!["order.paid", "stock.low"]);
        assert_eq!(v(&["*"]).unwrap(), vec!["*"]);
    }

    #[test]
    fn shown_urls_keep_no_credentials() {
        let cases = [
            ("https://user:pass@hooks.example.com/in?token=t0p#frag", "https://hooks.example.com/in"),
            ("https:user:pass@hooks.example.com:8443/in?token=t0p", "https://hooks.example.com:8443/in"),
            ("  http://:pass@[::1]:3000/h#x ", "http://[::1]:3000/h"),
            ("https://hooks.example.com/in", "https://hooks.example.com/in"),
            ("no url with secret", "(not a URL)"),
        ];
        for (raw, shown) in cases {
            assert_eq!(shown_url(raw), shown, "{raw}");
        }
    }
}
