//! Merchant webhooks per the Standard Webhooks specification. The events
//! dispatcher calls `fan_out` once per committed event: one delivery per
//! enabled endpoint that wants its type. `deliver_due`, a job step run
//! every minute, sends what is due and schedules retries. Endpoint URLs
//! are checked against server-side request forgery when created and again
//! on every attempt (`ports::WebhookSender`).

pub mod deliver;
pub mod endpoints;
pub mod records;
pub mod sign;

pub use deliver::{DeliveryReport, deliver_due};

use super::events::{self, Envelope};
use super::tx::Tx;
use super::{Ctx, ServiceError};
use crate::domain::Timestamp;
use records::{DeliveryRecord, EndpointRecord};

/// The event types an endpoint may subscribe to (API.md), besides `*`.
pub const EVENT_TYPES: &[&str] = &[
    "order.paid",
    "order.partially_paid",
    "order.fulfilled",
    "order.backordered",
    "order.refunded",
    "order.expired",
    "subscription.activated",
    "subscription.renewed",
    "subscription.expiring_soon",
    "subscription.grace_started",
    "subscription.ended",
    "subscription.file_replaced",
    "stock.low",
    "stock.sold_out",
    "stock.restocked",
    "credits.posted",
    "ops.alert",
];

/// The type of the event `POST /admin/webhooks/{id}/test` sends.
pub const TEST_EVENT: &str = "webhook.test";

/// One delivery of `env` per enabled endpoint that wants its type, due now.
/// Idempotent: a repeat for the same event id creates none. The number
/// created.
pub async fn fan_out(ctx: &Ctx, env: &Envelope) -> Result<u32, ServiceError> {
    let now = ctx.clock.now();
    let mut created = 0;
    for ep in records::endpoints(ctx).await?.iter().filter(|e| e.wants(&env.kind)) {
        if records::create_delivery(ctx, &DeliveryRecord::new(&ep.id, env, now)).await? {
            created += 1;
        }
    }
    Ok(created)
}

/// Disables an endpoint (410 Gone, failing for days, too many deliveries
/// that ran out of retries), once: the record keeps the reason and time,
/// and staff are told by an `ops.alert` in the same commit. False when it
/// was disabled already.
pub async fn on_endpoint_disabled(
    ctx: &Ctx,
    ep: &EndpointRecord,
    reason: &str,
    now: Timestamp,
) -> Result<bool, ServiceError> {
    let url = shown_url(&ep.url);
    let details = serde_json::json!({ "endpoint_id": ep.id, "url": url, "reason": reason });
    let event =
        super::ops::alert("endpoint_disabled", format!("webhook endpoint {url} was disabled: {reason}"), details);
    let mut tx = Tx::new();
    tx.push((), records::disable(&ep.id, reason, now)).push((), events::record(ctx, &event)?);
    if !tx.commit(ctx).await?.is_done() {
        return Ok(false);
    }
    tracing::error!(endpoint = %ep.id, %url, %reason, "webhook endpoint disabled");
    Ok(true)
}

/// An endpoint URL as shown anywhere but the endpoint's own admin listing
/// (alerts to staff and other endpoints, the event log, mails, logs):
/// without user name, password, query and fragment, where receivers put
/// credentials.
pub fn shown_url(url: &str) -> String {
    // reqwest's `Url` is the url crate's, the parser that sends to it.
    match reqwest::Url::parse(url.trim()) {
        Ok(mut u) => {
            // Refused only where the URL can have no user info at all.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        // Never stored so (checked at creation); nothing of it is shown.
        Err(_) => "(not a URL)".to_string(),
    }
}

#[cfg(test)]
mod tests;
