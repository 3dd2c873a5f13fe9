//! Local-only routes: a sandbox payment provider that posts correctly signed
//! webhooks, and a clock that moves forward (like Stripe's test clocks).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use super::openapi::responses::*;
use super::openapi::schemas::{ClockNow, SandboxPayment};
use crate::domain::{Money, ProviderKind, Timestamp};
use crate::ports::clock::OffsetClock;
use crate::providers::{nowpayments, stripe};
use crate::services::model::{OrderRecord, PaymentRecord};
use crate::services::orders;

/// What the sandbox signs with: the same secrets the webhook routes check.
pub struct SandboxKeys {
    pub nowpayments_secret: SecretString,
    pub stripe_secret: SecretString,
    pub clock: Arc<OffsetClock>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct PayBody {
    /// NOWPayments payment_status, or a Stripe event type (or paid, failed,
    /// expired, refunded). Default: paid in full.
    pub status: Option<String>,
    /// Minor units of the order's currency. Default: the full price.
    pub amount: Option<i64>,
}

#[utoipa::path(post, path = "/sandbox/pay/{order_id}", tag = "sandbox",
    params(("order_id" = String, Path)),
    request_body(content = Option<PayBody>, description = "Empty: paid in full"),
    responses(
        (status = 200, description = "The signed webhook was posted; what the webhook route answered", body = SandboxPayment),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn pay(
    State(s): State<AppState>,
    Path(order_id): Path<String>,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let keys = s.sandbox.clone().ok_or_else(|| ApiError::not_found("the sandbox is off"))?;
    let body: PayBody = if raw.iter().all(u8::is_ascii_whitespace) { PayBody::default() } else { parse_json(&raw)? };
    let bundle =
        orders::load(&s.ctx, &order_id).await?.ok_or_else(|| ApiError::not_found(format!("no order {order_id}")))?;
    let payment = bundle.payment.ok_or_else(|| ApiError::not_found("the order has no invoice yet"))?;
    let amount = body.amount.unwrap_or(bundle.order.amount_due().amount);
    if amount < 0 {
        return Err(ApiError::bad_request("amount must not be negative"));
    }
    // Signed with real time, as a provider's own CLI signs: the sandbox clock
    // moves business time only.
    let now = s.webhooks.signed_at.now();
    let (provider, raw_body, headers) = match bundle.order.provider {
        ProviderKind::Nowpayments => {
            // As NOWPayments does: less than due is partially_paid.
            let default = if amount < bundle.order.amount_due().amount { "partially_paid" } else { "finished" };
            let status = body.status.as_deref().unwrap_or(default);
            let ipn = nowpayments_ipn(&bundle.order, &payment, status, amount)?;
            let text = ipn.to_string();
            let sig = nowpayments::sign(keys.nowpayments_secret.expose_secret(), text.as_bytes())
                .map_err(|e| ApiError::bad_request(format!("could not sign: {e}")))?;
            (ProviderKind::Nowpayments, text, header("x-nowpayments-sig", &sig)?)
        }
        ProviderKind::Stripe => {
            let kind = stripe_type(body.status.as_deref().unwrap_or("paid"))?;
            let text = stripe_event(&bundle.order, &payment, kind, amount, now).to_string();
            let sig = stripe::signature_header(keys.stripe_secret.expose_secret(), now.secs(), text.as_bytes());
            (ProviderKind::Stripe, text, header("stripe-signature", &sig)?)
        }
    };
    let resp = super::webhooks::receive(&s, provider, &headers, raw_body.as_bytes()).await;
    let (status, answer) = match resp {
        Ok(r) => (r.status().as_u16(), json!({"received": true})),
        Err(e) => {
            // Reported inside this answer rather than as a response of its own.
            e.log();
            (e.status.as_u16(), json!({"type": e.kind, "detail": e.detail}))
        }
    };
    let sent: Value = serde_json::from_str(&raw_body).unwrap_or(Value::Null);
    Ok(Json(json!({"provider": provider, "webhook_status": status, "webhook_response": answer, "sent": sent}))
        .into_response())
}

fn header(name: &'static str, value: &str) -> Result<HeaderMap, ApiError> {
    let mut h = HeaderMap::new();
    let v = HeaderValue::from_str(value).map_err(|_| ApiError::bad_request("unprintable signature"))?;
    h.insert(HeaderName::from_static(name), v);
    Ok(h)
}

fn decimal(m: &Money) -> Value {
    serde_json::from_str(&m.to_decimal().normalize().to_string()).unwrap_or(Value::Null)
}

fn nowpayments_ipn(order: &OrderRecord, p: &PaymentRecord, status: &str, amount: i64) -> Result<Value, ApiError> {
    let payment_id: Value =
        p.payment_id.as_deref().and_then(|id| id.parse::<u64>().ok()).map(Value::from).unwrap_or(Value::Null);
    let pay_amount: Value = p.pay_amount.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
    let paid = Money::new(amount, order.price.currency.clone());
    Ok(json!({
        "payment_id": payment_id,
        "parent_payment_id": null,
        "invoice_id": null,
        "payment_status": status,
        "pay_address": p.pay_address,
        "price_amount": decimal(&order.amount_due()),
        "price_currency": order.price.currency.as_str().to_ascii_lowercase(),
        "pay_amount": pay_amount,
        "actually_paid": decimal(&paid),
        "pay_currency": p.pay_currency,
        "order_id": order.order_id,
        "order_description": order.product_id,
        "purchase_id": p.payment_id,
        "outcome_amount": decimal(&paid),
        "outcome_currency": p.pay_currency,
        "fee": {"currency": p.pay_currency, "depositFee": 0, "serviceFee": 0, "withdrawalFee": 0},
    }))
}

fn stripe_type(status: &str) -> Result<&'static str, ApiError> {
    Ok(match status {
        "paid" | "checkout.session.completed" => "checkout.session.completed",
        "unpaid" | "pending" => "checkout.session.completed#unpaid",
        "async_paid" | "checkout.session.async_payment_succeeded" => "checkout.session.async_payment_succeeded",
        "failed" | "checkout.session.async_payment_failed" => "checkout.session.async_payment_failed",
        "expired" | "checkout.session.expired" => "checkout.session.expired",
        "refunded" | "charge.refunded" => "charge.refunded",
        other => return Err(ApiError::bad_request(format!("status '{other}' is not a sandbox Stripe status"))),
    })
}

fn stripe_event(order: &OrderRecord, p: &PaymentRecord, kind: &str, amount: i64, now: Timestamp) -> Value {
    let currency = order.price.currency.as_str().to_ascii_lowercase();
    let (kind, payment_status) = match kind.split_once('#') {
        Some((k, s)) => (k, s),
        None => (kind, "paid"),
    };
    let object = if kind == "charge.refunded" {
        json!({"id": format!("ch_{}", order.order_id), "object": "charge", "amount": amount, "amount_refunded": amount,
               "currency": currency, "refunded": true, "payment_intent": format!("pi_{}", order.order_id),
               "metadata": {"order_id": order.order_id}})
    } else {
        json!({"id": p.payment_id, "object": "checkout.session", "client_reference_id": order.order_id,
               "metadata": {"order_id": order.order_id}, "amount_total": amount, "currency": currency,
               "payment_status": payment_status, "payment_intent": format!("pi_{}", order.order_id), "mode": "payment"})
    };
    json!({"id": format!("evt_{}", ulid::Ulid::new()), "object": "event", "type": kind, "created": now.secs(),
           "livemode": false, "data": {"object": object}})
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ClockBody {
    /// Seconds to move forward: 0 to ten years.
    #[schema(minimum = 0, maximum = 315_360_000)]
    pub advance_seconds: i64,
}

#[utoipa::path(post, path = "/sandbox/clock", tag = "sandbox",
    request_body = ClockBody,
    responses(
        (status = 200, description = "The local stack's clock, moved", body = ClockNow),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
    ))]
pub async fn clock(State(s): State<AppState>, RawBody(raw): RawBody) -> Result<Response, ApiError> {
    let keys = s.sandbox.clone().ok_or_else(|| ApiError::not_found("the sandbox is off"))?;
    let body: ClockBody = parse_json(&raw)?;
    if !(0..=10 * 365 * 86_400).contains(&body.advance_seconds) {
        return Err(ApiError::bad_request(
            "advance_seconds must be between 0 and ten years (the clock only moves forward)",
        ));
    }
    let now = keys.clock.advance(body.advance_seconds);
    Ok(Json(json!({"now": now.rfc3339()})).into_response())
}
