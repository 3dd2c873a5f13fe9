//! The single-table layout: every key and index value in one place.

use sha2::{Digest, Sha256};

use crate::domain::{OrderStatus, Timestamp};
use crate::ports::{Key, SkRange};

pub use super::store::catalog::key as product;

pub use super::store::stock::{LEDGER_PK, counts_key as stock_counts, ledger_key as ledger};

pub fn order_pk(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}
pub fn order(order_id: &str) -> Key {
    Key::new(order_pk(order_id), "ORDER")
}
pub fn payment(order_id: &str) -> Key {
    Key::new(order_pk(order_id), "PAYMENT")
}
pub fn hold(order_id: &str) -> Key {
    Key::new(order_pk(order_id), "HOLD")
}
pub fn intent(order_id: &str) -> Key {
    Key::new(order_pk(order_id), "INTENT")
}

/// Orders by status, oldest change first (the scheduled jobs read these).
pub fn orders_by_status(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}
/// Holds by expiry.
pub const HOLDS_INDEX: &str = "HOLDS";
/// Fulfilment intents by creation time (reconcile finishes stale ones).
pub const INTENTS_INDEX: &str = "INTENTS";

pub fn idempotency(key: &str) -> Key {
    let h = hex::encode(Sha256::digest(key.as_bytes()));
    Key::new(format!("IDEM#{h}"), "IDEM")
}

pub fn webhook_event(provider: &str, event_id: &str) -> Key {
    Key::new(format!("EVENT#{provider}#{event_id}"), "EVENT")
}

pub use super::store::files::{files_at, key as file, written_off_key as written_off};
pub use super::store::revokes::key as revoke_intent;
pub use super::store::subscriptions::{INDEX as SUBS_INDEX, key as subscription};

/// Usage of a subscription in 30-day period `n` (counters, seat-days).
pub fn usage_period(subscription_id: &str, n: u64) -> Key {
    Key::new(format!("SUB#{subscription_id}"), format!("USAGE#{n:06}"))
}
pub const USAGE_PERIOD_PREFIX: &str = "USAGE#";
/// Open usage periods by end (the reset job reads the ended ones).
pub const USAGE_DUE_INDEX: &str = "USAGE_DUE";
/// A usage report's idempotency key, scoped to its subscription.
pub fn usage_report(subscription_id: &str, key: &str) -> Key {
    let h = hex::encode(Sha256::digest(key.as_bytes()));
    Key::new(format!("SUB#{subscription_id}"), format!("USAGEKEY#{h}"))
}
/// A subscription's seat count on day `day` (days since the epoch).
pub fn seat_snapshot(subscription_id: &str, day: i64) -> Key {
    Key::new(format!("SUB#{subscription_id}"), format!("SEATS#{day:08}"))
}
/// A seat (file) leaving a subscription, written before the file moves.
pub fn seat_removal(subscription_id: &str, file: &str) -> Key {
    Key::new(format!("SUB#{subscription_id}"), format!("SEATREMOVE#{file}"))
}
/// Unfinished seat removals by creation time.
pub const SEAT_INTENTS_INDEX: &str = "SEAT_INTENTS";

/// Index entries sorted at or before `upto` (a `sort_at` key). DynamoDB
/// refuses an empty string in a key condition, so the range starts at "0",
/// below every fixed-width time.
pub fn up_to(upto: String) -> SkRange {
    SkRange::Between("0".into(), upto)
}

pub fn sort_at(t: Timestamp, id: &str) -> String {
    format!("{}#{id}", t.sort_key())
}

/// A staff adjustment of one file, in the INTENTS index until its files moved.
pub fn adjust_intent(file: &str) -> Key {
    Key::new(format!("FILE#{file}"), "ADJUST")
}

pub use super::store::credits::account_key as credit_account;
