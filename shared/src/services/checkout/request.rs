//! The checkout request as sent, parsed, and the response shapes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{Email, Money, OrderStatus, ProviderKind};
use crate::ports::Invoice;
use crate::services::ServiceError;

/// The body as sent; `parse` turns it into a `CheckoutRequest`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckoutBody {
    #[schema(example = "buyer@example.com")]
    pub email: String,
    #[schema(example = "silver")]
    pub product_id: String,
    #[schema(value_type = ProviderKind)]
    pub provider: String,
    /// NOWPayments only: the coin to pay in (`btc`, `usdttrc20`).
    #[serde(default)]
    pub pay_currency: Option<String>,
    /// Another order even though one for this email and product is open.
    #[serde(default)]
    pub new: bool,
    /// Renew this subscription (same plan); needs the buyer's session or
    /// `order_token`.
    #[serde(default)]
    pub renew_subscription_id: Option<String>,
    /// The subscription an add-on is for; needs the buyer's session or
    /// `order_token`.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// The token of the order that bought the subscription: proof it is
    /// yours without signing in.
    #[serde(default)]
    pub order_token: Option<String>,
    /// Pay part or all of the price with loyalty credits; needs the buyer's
    /// session (`Authorization: Bearer {session_token}`), else 401.
    #[serde(default)]
    pub use_credits: bool,
}

/// A purchase for an existing subscription.
#[derive(Clone, Debug)]
pub struct ForSubscription {
    pub subscription_id: String,
    /// Proof without a session.
    pub order_token: Option<String>,
    pub renew: bool,
}

#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    pub email: Email,
    pub product_id: String,
    pub provider: ProviderKind,
    pub pay_currency: Option<String>,
    pub new: bool,
    /// The caller's address as the edge saw it (never a client header).
    pub client_ip: Option<String>,
    pub for_subscription: Option<ForSubscription>,
    /// Pay with the buyer's credits (needs `buyer`).
    pub use_credits: bool,
    /// The signed-in buyer (a customer session), if any.
    pub buyer: Option<Email>,
}

impl CheckoutBody {
    pub fn parse(self) -> Result<CheckoutRequest, ServiceError> {
        let email = Email::parse(&self.email).map_err(|e| ServiceError::BadInput(e.to_string()))?;
        let provider = ProviderKind::parse(&self.provider).ok_or_else(|| {
            ServiceError::BadInput(format!("provider: '{}' is not one of nowpayments, stripe", self.provider))
        })?;
        let pay_currency = match self.pay_currency {
            Some(c) if provider == ProviderKind::Stripe => {
                return Err(ServiceError::BadInput(format!("pay_currency '{c}' is only for nowpayments")));
            }
            Some(c) => {
                let c = c.trim().to_ascii_lowercase();
                if c.is_empty() || c.len() > 20 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(ServiceError::BadInput(
                        "pay_currency must be a coin code like btc or usdttrc20".into(),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let for_subscription = match (self.renew_subscription_id, self.subscription_id) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::BadInput("give renew_subscription_id or subscription_id, not both".into()));
            }
            (Some(id), None) => {
                Some(ForSubscription { subscription_id: id, order_token: self.order_token, renew: true })
            }
            (None, Some(id)) => {
                Some(ForSubscription { subscription_id: id, order_token: self.order_token, renew: false })
            }
            (None, None) => None,
        };
        Ok(CheckoutRequest {
            email,
            product_id: self.product_id,
            provider,
            pay_currency,
            new: self.new,
            client_ip: None,
            for_subscription,
            use_credits: self.use_credits,
            buyer: None,
        })
    }
}

impl CheckoutRequest {
    /// What an Idempotency-Key is bound to: the same key with another request
    /// is refused.
    pub fn hash(&self) -> String {
        let target =
            self.for_subscription.as_ref().map(|f| format!("{}:{}", f.subscription_id, f.renew)).unwrap_or_default();
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.email.as_str(),
            self.product_id,
            self.provider.as_str(),
            self.pay_currency.as_deref().unwrap_or(""),
            self.new,
            target
        );
        let text = if self.use_credits { format!("{text}\ncredits") } else { text };
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckoutResponse {
    pub order_id: String,
    /// Bearer token for `GET /orders/{order_id}`.
    pub order_token: String,
    pub status: OrderStatus,
    pub price: Money,
    /// The plan's files are held until then.
    #[schema(format = DateTime)]
    pub reserved_until: String,
    pub payment: Invoice,
    /// Credits paying part of the price, and what is left to pay.
    #[serde(skip_serializing_if = "is_zero")]
    pub credits_used: i64,
    pub amount_due: Money,
}

/// Whether the response is a new order (201) or an existing one (200).
pub enum Outcome {
    Created(CheckoutResponse),
    Replayed(CheckoutResponse),
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
