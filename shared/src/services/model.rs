//! What the services store. One struct per record kind.

use serde::{Deserialize, Serialize};

// Moved to `store/`; named here for the callers not on it yet (the order
// lifecycle, http, tests, the bench).
pub use super::store::files::FileRecord;
pub use super::store::revokes::RevokeIntent;
pub use super::store::stock::{CountsRecord, LedgerEntry};
pub use super::store::subscriptions::SubscriptionRecord;

use crate::domain::{Money, OrderStatus, ProviderKind, Timestamp};

/// What an order buys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new subscription.
    #[default]
    New,
    /// More time for `for_subscription` (its files stay, unless it ended).
    Renew,
    /// More files for `for_subscription`.
    ExtraFiles,
    /// More days for `for_subscription`.
    Extend,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order_id: String,
    pub email: String,
    pub user_id: String,
    pub product_id: String,
    pub files: u32,
    pub interval_seconds: u32,
    pub validity_days: u32,
    pub price: Money,
    pub provider: ProviderKind,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub reserved_until: Timestamp,
    #[serde(default)]
    pub paid_at: Option<Timestamp>,
    /// What is still missing when partially paid ("0.0002 btc").
    #[serde(default)]
    pub missing: Option<String>,
    /// What the provider said arrived ("0.0010 btc"), kept when the order
    /// lapses so money received for an unpaid order stays visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// What arrived beyond the price, to give back or credit by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overpaid: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// The provider's last status or event type, for support.
    #[serde(default)]
    pub provider_status: Option<String>,
    /// Limit counters this open order counts against (their `pk`s).
    #[serde(default)]
    pub limit_keys: Vec<String>,
    /// The open-order pointer this order owns (its `pk`), if any.
    #[serde(default)]
    pub open_pointer: Option<String>,
    #[serde(default)]
    pub purpose: Purpose,
    /// The subscription a renewal or add-on is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_subscription: Option<String>,
    /// Loyalty credits spent on this order, and the price they cover.
    #[serde(default)]
    pub credits: i64,
    #[serde(default)]
    pub credits_minor: i64,
}

impl OrderRecord {
    /// What the payment provider is to collect: the price less credits.
    pub fn amount_due(&self) -> Money {
        Money::new(self.price.amount - self.credits_minor, self.price.currency.clone())
    }
}

/// The invoice an order is paid through.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub order_id: String,
    pub provider: ProviderKind,
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub pay_address: Option<String>,
    #[serde(default)]
    pub pay_amount: Option<String>,
    #[serde(default)]
    pub pay_currency: Option<String>,
    #[serde(default)]
    pub checkout_url: Option<String>,
    #[serde(default)]
    pub pay_currency_requested: Option<String>,
}

/// Stock held for an unpaid order until `expires_at`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HoldRecord {
    pub order_id: String,
    pub count: u32,
    pub expires_at: Timestamp,
}

/// Which files a fulfilment claimed, written before any file moves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntentRecord {
    pub order_id: String,
    pub user_id: String,
    pub files: Vec<String>,
    pub created_at: Timestamp,
    pub done: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventRecord {
    pub provider: ProviderKind,
    pub event_id: String,
    pub order_id: Option<String>,
    pub received_at: Timestamp,
    /// What the event did: "moved to paid", "duplicate", "refused: ...".
    pub effect: String,
}
