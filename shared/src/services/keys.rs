//! The single-table layout: the keys and index values of the kinds not in
//! `store/` yet (orders and theirs), and the shared sort-key helpers.

use crate::domain::OrderStatus;
use crate::ports::Key;

// The kinds in `store/` own their keys; these names stay for the callers
// not on the store yet (the order lifecycle, tests, the bench).
pub use super::store::catalog::key as product;
pub use super::store::credits::account_key as credit_account;
pub use super::store::files::{files_at, key as file, written_off_key as written_off};
pub use super::store::revokes::key as revoke_intent;
pub use super::store::stock::{LEDGER_PK, counts_key as stock_counts, ledger_key as ledger};
pub use super::store::subscriptions::{INDEX as SUBS_INDEX, key as subscription};
pub use super::store::{INTENTS_INDEX, sort_at, up_to};

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
