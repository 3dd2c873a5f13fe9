//! `POST /webhooks/{provider}`: verify over the raw bytes first, then parse,
//! then hand the event to the service. 401 for signatures, 400 for bodies that
//! are not the provider's JSON; nothing changes on either.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::body::RawBody;
use super::error::ApiError;
use super::openapi::responses::*;
use super::openapi::schemas::{NowPaymentsIpn, Received, StripeEvent};
use crate::domain::{PaymentEvent, ProviderKind};
use crate::providers::{WebhookVerifier, nowpayments, stripe};
use crate::services::webhooks::ingest;

#[utoipa::path(post, path = "/webhooks/nowpayments", tag = "webhooks",
    params(("x-nowpayments-sig" = String, Header,
        description = "Hex HMAC-SHA512 (IPN secret) of the body re-serialised with keys sorted, no whitespace")),
    request_body(content = NowPaymentsIpn, description = "A NOWPayments IPN"),
    responses(
        (status = 200, description = "Verified (also a duplicate, an event of no interest, an unknown order)", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Unprocessable),
        (status = 500, response = Internal),
        (status = 502, response = ProviderDown),
    ))]
pub async fn nowpayments_route(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    receive(&s, ProviderKind::Nowpayments, &headers, &raw).await
}

#[utoipa::path(post, path = "/webhooks/stripe", tag = "webhooks",
    params(("Stripe-Signature" = String, Header,
        description = "`t={unix secs},v1={hex HMAC-SHA256 of \"{t}.{raw body}\"}`, 300 s tolerance")),
    request_body(content = StripeEvent, description = "A Stripe event"),
    responses(
        (status = 200, description = "Verified (also a duplicate, an event of no interest, an unknown order)", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Unprocessable),
        (status = 500, response = Internal),
        (status = 502, response = ProviderDown),
    ))]
pub async fn stripe_route(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    receive(&s, ProviderKind::Stripe, &headers, &raw).await
}

/// The whole webhook path; the sandbox calls it too, exactly as the route does.
pub async fn receive(
    s: &AppState,
    provider: ProviderKind,
    headers: &HeaderMap,
    raw: &[u8],
) -> Result<Response, ApiError> {
    // Freshness is real time; the business clock may have been moved.
    let now = s.webhooks.signed_at.now();
    let verified = match provider {
        ProviderKind::Nowpayments => s.webhooks.nowpayments.verify(headers, raw, now),
        ProviderKind::Stripe => s.webhooks.stripe.verify(headers, raw, now),
    };
    if let Err(e) = verified {
        tracing::warn!(%provider, error = %e, "webhook signature refused");
        return Err(ApiError::unauthorized(format!("{provider} signature refused: {e}")));
    }
    let event: PaymentEvent = match provider {
        ProviderKind::Nowpayments => {
            nowpayments::parse(raw).map_err(|e| ApiError::bad_request(format!("not a NOWPayments IPN: {e}")))?
        }
        ProviderKind::Stripe => {
            stripe::parse(raw).map_err(|e| ApiError::bad_request(format!("not a Stripe event: {e}")))?
        }
    };
    let effect = ingest(&s.ctx, &event).await?;
    tracing::info!(%provider, event_id = %event.event_id, order_id = ?event.order_id, ?effect, "webhook handled");
    Ok(Json(serde_json::json!({"received": true})).into_response())
}
