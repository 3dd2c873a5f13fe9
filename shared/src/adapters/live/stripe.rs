//! Stripe Checkout: create a session for an order, read it back, expire it
//! when our hold ends first. Every call is safe to retry: the create carries
//! `Idempotency-Key: {order_id}`, and expiring twice expires once.

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::http::{Api, Retry, check_id};
use crate::domain::{Money, PaymentEvent, PaymentOutcome, ProviderKind, Timestamp};
use crate::ports::{Invoice, InvoiceRequest, ProviderError};
use crate::providers::stripe::parse;

const SESSIONS: &str = "/v1/checkout/sessions";
const REFUNDS: &str = "/v1/refunds";
/// Stripe refuses an `expires_at` under 30 minutes or over 24 hours from
/// creation; a minute of margin each side for clock skew and transit.
const MIN_EXPIRY_SECS: i64 = 30 * 60 + 60;
const MAX_EXPIRY_SECS: i64 = 24 * 60 * 60 - 60;

#[derive(Debug)]
pub(super) struct Stripe {
    pub api: Api,
    pub key: SecretString,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    url: Option<String>,
}

#[derive(Deserialize)]
struct PaidSession {
    id: String,
    payment_intent: Option<String>,
}

#[derive(Deserialize)]
struct Refunded {
    id: String,
}

#[derive(Deserialize)]
struct SessionState {
    id: String,
    status: Option<String>,
    payment_status: Option<String>,
}

/// A looked-up session dressed as the event Stripe would send for it, so
/// the webhook parser's mapping applies unchanged.
#[derive(Serialize)]
struct AsEvent<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    object: &'a RawValue,
}

impl Stripe {
    pub(super) async fn create(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError> {
        let order = req.order_id.as_str();
        let expires_at = expires_at(req.expires_at, Timestamp::system_now());
        // Built once: a retry must send the same parameters, or Stripe
        // refuses the reused Idempotency-Key.
        let form: [(&str, String); 12] = [
            ("mode", "payment".into()),
            ("line_items[0][quantity]", "1".into()),
            ("line_items[0][price_data][currency]", req.price.currency.as_str().to_ascii_lowercase()),
            ("line_items[0][price_data][unit_amount]", req.price.amount.to_string()),
            ("line_items[0][price_data][product_data][name]", req.product_name.clone()),
            ("client_reference_id", order.into()),
            ("metadata[order_id]", order.into()),
            ("payment_intent_data[metadata][order_id]", order.into()),
            ("customer_email", req.email.clone()),
            ("expires_at", expires_at.to_string()),
            ("success_url", self.success_url.clone()),
            ("cancel_url", self.cancel_url.clone()),
        ];
        let reply = self
            .api
            .send(Method::POST, SESSIONS, Retry::Safe, |r| self.auth(r).header("Idempotency-Key", order).form(&form))
            .await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let bad = |why: &str| self.api.bad_answer(&format!("POST {SESSIONS}"), why);
        let created: Created = serde_json::from_slice(&raw).map_err(|e| bad(&e.to_string()))?;
        check_id(self.api.provider, &created.id).map_err(|_| bad("id is not a plain id"))?;
        let url = created.url.filter(|u| !u.is_empty()).ok_or_else(|| bad("no url"))?;
        Ok(Invoice {
            provider: ProviderKind::Stripe,
            payment_id: created.id,
            pay_address: None,
            pay_amount: None,
            pay_currency: None,
            checkout_url: Some(url),
        })
    }

    /// complete+paid is Paid, complete+unpaid Confirming (a delayed method),
    /// expired Expired, open (or anything new) Ignore.
    pub(super) async fn lookup(&self, id: &str) -> Result<PaymentEvent, ProviderError> {
        check_id(self.api.provider, id)?;
        let path = format!("{SESSIONS}/{id}");
        let reply = self.api.send(Method::GET, &path, Retry::Safe, |r| self.auth(r)).await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let bad = |why: String| self.api.bad_answer(&format!("GET {path}"), why);
        let session: &RawValue = serde_json::from_slice(&raw).map_err(|e| bad(e.to_string()))?;
        let state: SessionState = serde_json::from_str(session.get()).map_err(|e| bad(e.to_string()))?;
        if state.id != id {
            return Err(bad("the answer is for another session".into()));
        }
        let status = state.status.unwrap_or_default();
        let paid = state.payment_status.unwrap_or_default();
        let event_id = format!("lookup:{id}:{status}:{paid}");
        let kind = match status.as_str() {
            "complete" => "checkout.session.completed",
            "expired" => "checkout.session.expired",
            // No such event: the parser ignores it, as an open session deserves.
            _ => "checkout.session.open",
        };
        let wrapped = serde_json::to_vec(&AsEvent { id: &event_id, kind, data: Data { object: session } })
            .map_err(|e| bad(e.to_string()))?;
        let mut event = parse(&wrapped).map_err(|e| bad(e.to_string()))?;
        event.raw_status = format!("{status}:{paid}");
        event.payment_id = Some(state.id);
        if event.outcome == PaymentOutcome::Ignore && event.order_id.is_none() {
            event.order_id = order_id(session);
        }
        Ok(event)
    }

    /// Expires an open session. One that is no longer open (paid, or expired
    /// already) is as closed as we need it.
    pub(super) async fn cancel(&self, id: &str) -> Result<(), ProviderError> {
        check_id(self.api.provider, id)?;
        let path = format!("{SESSIONS}/{id}/expire");
        let reply = self.api.send(Method::POST, &path, Retry::Safe, |r| self.auth(r)).await?;
        if reply.status == StatusCode::BAD_REQUEST && not_open(&reply.body) {
            return Ok(());
        }
        self.api.body(reply, &self.key, message).map(drop)
    }

    /// Refunds `amount` of the session's payment: the session names its
    /// payment intent, and the refund carries `Idempotency-Key: {key}`.
    pub(super) async fn refund(&self, session_id: &str, amount: &Money, key: &str) -> Result<String, ProviderError> {
        check_id(self.api.provider, session_id)?;
        let path = format!("{SESSIONS}/{session_id}");
        let reply = self.api.send(Method::GET, &path, Retry::Safe, |r| self.auth(r)).await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let bad = |what: &str, why: &str| self.api.bad_answer(what, why);
        let session: PaidSession = serde_json::from_slice(&raw).map_err(|e| bad(&path, &e.to_string()))?;
        if session.id != session_id {
            return Err(bad(&path, "the answer is for another session"));
        }
        let intent = session.payment_intent.filter(|p| !p.is_empty()).ok_or_else(|| bad(&path, "no payment_intent"))?;
        check_id(self.api.provider, &intent).map_err(|_| bad(&path, "payment_intent is not a plain id"))?;
        let form = [("payment_intent", intent), ("amount", amount.amount.to_string())];
        let reply = self
            .api
            .send(Method::POST, REFUNDS, Retry::Safe, |r| self.auth(r).header("Idempotency-Key", key).form(&form))
            .await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let refund: Refunded = serde_json::from_slice(&raw).map_err(|e| bad(REFUNDS, &e.to_string()))?;
        Ok(refund.id)
    }

    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        // bearer_auth marks the header sensitive.
        request.bearer_auth(self.key.expose_secret())
    }
}

/// The end of our hold, moved into the window Stripe accepts.
pub(super) fn expires_at(hold_end: Timestamp, now: Timestamp) -> i64 {
    let now = now.secs();
    hold_end.secs().clamp(now.saturating_add(MIN_EXPIRY_SECS), now.saturating_add(MAX_EXPIRY_SECS))
}

/// Stripe errors read `{"error":{"type":"invalid_request_error","message":"..."}}`.
fn error_field<'v>(value: &'v serde_json::Value, field: &str) -> Option<&'v str> {
    value.get("error")?.get(field)?.as_str()
}

fn message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    error_field(&value, "message").map(str::to_owned)
}

/// Stripe's answer to expiring a session that is not open: "Only Checkout
/// Sessions with a status in [\"open\"] can be expired. This Checkout
/// Session has a status of `expired`."
fn not_open(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    error_field(&value, "type") == Some("invalid_request_error")
        && error_field(&value, "message").is_some_and(|m| m.contains("[\"open\"]"))
}

/// For an open session, which the event parser does not read.
fn order_id(session: &RawValue) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(session.get()).ok()?;
    let from = |v: Option<&serde_json::Value>| v?.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    from(value.get("client_reference_id")).or_else(|| from(value.get("metadata")?.get("order_id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_stays_inside_stripes_window() {
        let now = Timestamp::from_secs(1_700_000_000);
        let at = |secs: i64| expires_at(Timestamp::from_secs(1_700_000_000 + secs), now) - 1_700_000_000;
        assert_eq!(at(15 * 60), MIN_EXPIRY_SECS);
        assert_eq!(at(-10), MIN_EXPIRY_SECS);
        assert_eq!(at(2 * 3600), 2 * 3600);
        assert_eq!(at(48 * 3600), MAX_EXPIRY_SECS);
        // Extremes saturate instead of overflowing.
        let _ = expires_at(Timestamp(i64::MAX), Timestamp(i64::MAX));
        let _ = expires_at(Timestamp(i64::MIN), Timestamp(i64::MIN));
    }

    #[test]
    fn only_stripes_not_open_answer_counts_as_expired() {
        let doc = br#"{"error":{"message":"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `complete`.","type":"invalid_request_error"}}"#;
        assert!(not_open(doc));
        assert!(!not_open(br#"{"error":{"message":"Invalid request","type":"invalid_request_error"}}"#));
        assert!(!not_open(br#"{"error":{"message":"[\"open\"]","type":"api_error"}}"#));
        assert!(!not_open(b"<html>"));
    }
}
