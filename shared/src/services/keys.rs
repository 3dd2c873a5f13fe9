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
