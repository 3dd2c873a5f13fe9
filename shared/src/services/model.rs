//! What the services store: every kind now lives in `store/`; these names
//! stay for the callers not on it yet (http, tests, the bench).

pub use super::store::files::FileRecord;
pub use super::store::orders::{HoldRecord, IntentRecord, OrderRecord, PaymentRecord, Purpose};
pub use super::store::revokes::RevokeIntent;
pub use super::store::stock::{CountsRecord, LedgerEntry};
pub use super::store::subscriptions::SubscriptionRecord;
