//! The payment gateway: creates the invoice (NOWPayments payment or Stripe
//! Checkout Session) for an order. Webhook verification is pure and lives in
//! `crate::providers`.

use async_trait::async_trait;

use crate::domain::{Money, OrderId, PaymentEvent, ProviderKind, Timestamp};

#[derive(Clone, Debug)]
pub struct InvoiceRequest {
    pub provider: ProviderKind,
    pub order_id: OrderId,
    pub product_id: String,
    pub product_name: String,
    pub price: Money,
    /// NOWPayments only: the coin the buyer pays in.
    pub pay_currency: Option<String>,
    /// When our hold ends; the invoice should not outlive it.
    pub expires_at: Timestamp,
    pub email: String,
}

/// What the storefront needs to send the buyer to pay.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Invoice {
    pub provider: ProviderKind,
    pub payment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_address: Option<String>,
    /// Decimal text in `pay_currency` (crypto amounts are not minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the request (4xx): retrying will not help.
    #[error("provider refused: {0}")]
    Rejected(String),
    /// Down, slow or 5xx.
    #[error("provider unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// How money went back to the buyer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundMade {
    /// The provider refunded it; its refund id.
    Provider(String),
    /// The provider has no refund call (NOWPayments): staff send it by hand.
    Manual,
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    async fn create_invoice(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError>;

    /// Reads a payment back from the provider ("truth on doubt"), as the event
    /// it would have sent now. Its `event_id` matches the webhook's for the
    /// same state (NOWPayments: `{payment_id}:{status}`), so a looked-up state
    /// and its webhook count once between them.
    async fn lookup(&self, provider: ProviderKind, payment_id: &str) -> Result<PaymentEvent, ProviderError>;

    /// Closes an invoice whose hold we released first, so it cannot be paid
    /// (Stripe: expire the Checkout Session). A no-op where the provider has
    /// no such call (NOWPayments payments simply lapse).
    async fn cancel(&self, provider: ProviderKind, payment_id: &str) -> Result<(), ProviderError>;

    /// Gives `amount` of a payment back (Stripe: the Refunds API). The same
    /// `key` again refunds once, so a retry after a lost answer is safe.
    async fn refund(
        &self,
        provider: ProviderKind,
        payment_id: &str,
        amount: &Money,
        key: &str,
    ) -> Result<RefundMade, ProviderError>;
}
