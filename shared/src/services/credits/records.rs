//! What the credits ledger stores: one account per customer, transfers by
//! id, and immutable entries under the account (see `store::credits`).

pub use crate::services::store::credits::{AccountRecord, EntryRecord, TransferRecord};
