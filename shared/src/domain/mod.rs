//! Pure types and rules: no I/O, no async. Types parse on the way in, so a
//! value once held is valid.

mod catalog;
mod credits;
mod email;
mod ids;
mod money;
mod order;
mod pattern;
mod payment;
mod role;
mod stock;
mod subscription;
mod time;
mod token;
pub mod usage;

pub use catalog::{DEFAULT_WARRANTY_HOURS, Product, ProductKind, Tier, default_catalog};
pub use credits::{Action, Balance, CreditRules, Direction, Effect, EntryKind, TransferState, decide, effect};
pub use email::Email;
pub use ids::{FileName, IdempotencyKey, OrderId, SubscriptionId, UserId};
pub use money::{Currency, Money};
pub use order::{OrderStatus, Transition};
pub use pattern::{DEFAULT_STOCK_PATTERN, Judged, SIDECAR_SUFFIX, StockPattern, sidecar_of};
pub use payment::{AmountCheck, PaymentEvent, PaymentOutcome, ProviderKind, check_amount};
pub use role::Role;
pub use stock::{LedgerKind, Location, StockCounts};
pub use subscription::{EndReason, GRACE_MILLIS, SubscriptionState, subscription_state};
pub use time::Timestamp;
pub use token::OrderTokens;

/// A value from outside that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        ParseError { field, reason: reason.into() }
    }
}
