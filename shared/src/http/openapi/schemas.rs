//! Schemas of bodies that have no Rust type of their own: the providers'
//! webhook payloads (read as raw bytes) and the sandbox's answers (built
//! with `json!`). Keep them next to the code that builds or reads them.

use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::ProviderKind;

/// A webhook was verified and taken.
#[derive(ToSchema)]
pub struct Received {
    /// Always true.
    pub received: bool,
}

/// A NOWPayments IPN: the fields Stockroom reads (others are allowed and
/// are signed too). Numbers are hashed exactly as they arrived.
#[derive(ToSchema)]
pub struct NowPaymentsIpn {
    #[schema(value_type = Option<Value>)]
    pub payment_id: Value,
    /// waiting, confirming, confirmed, sending, partially_paid, finished,
    /// failed, refunded, expired, cancelled.
    pub payment_status: String,
    /// Our order id.
    pub order_id: Option<String>,
    #[schema(value_type = Option<Value>)]
    pub price_amount: Value,
    pub price_currency: Option<String>,
    #[schema(value_type = Option<Value>)]
    pub pay_amount: Value,
    #[schema(value_type = Option<Value>)]
    pub actually_paid: Value,
    pub pay_currency: Option<String>,
    /// Set on a repeated deposit, which never hands out stock by itself.
    #[schema(value_type = Option<Value>)]
    pub parent_payment_id: Value,
}

/// A Stripe event. Handled: checkout.session.completed (payment_status
/// paid), checkout.session.async_payment_succeeded / _failed,
/// checkout.session.expired, charge.refunded.
#[derive(ToSchema)]
pub struct StripeEvent {
    pub id: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub created: Option<i64>,
    /// `{"object": {...}}`: the session (its `client_reference_id` or
    /// `metadata.order_id` is the order) or the charge (`metadata.order_id`).
    #[schema(value_type = Object)]
    pub data: Value,
}

/// What the sandbox sent and what the webhook route answered.
#[derive(ToSchema)]
pub struct SandboxPayment {
    pub provider: ProviderKind,
    /// The webhook route's HTTP status.
    pub webhook_status: u16,
    /// `{"received": true}`, or `{"type", "detail"}` of the refusal.
    #[schema(value_type = Object)]
    pub webhook_response: Value,
    /// The provider payload that was signed and posted.
    #[schema(value_type = Object)]
    pub sent: Value,
}

/// The local stack's clock after the move.
#[derive(ToSchema)]
pub struct ClockNow {
    #[schema(format = DateTime)]
    pub now: String,
}
