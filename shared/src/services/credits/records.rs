//! What the credits ledger stores: one account per customer, transfers by
//! id, and immutable entries under the account.

use serde::{Deserialize, Serialize};

use crate::domain::{Direction, EntryKind, Timestamp, TransferState};

/// A customer's sums. Changed only by ADD in the transaction that writes the
/// entry, so concurrent changes never overwrite each other.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AccountRecord {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub posted: i64,
    #[serde(default)]
    pub pending_in: i64,
    #[serde(default)]
    pub pending_out: i64,
    /// posted - pending_out, kept as its own number so a spend can be guarded
    /// by one condition (`spendable >= amount`).
    #[serde(default)]
    pub spendable: i64,
    /// Entries written so far.
    #[serde(default)]
    pub version: i64,
}

/// One two-phase transfer: an earn, a gift or a spend.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransferRecord {
    pub id: String,
    pub user_id: String,
    pub email: String,
    /// Earn, Gift or Spend.
    pub origin: EntryKind,
    pub dir: Direction,
    pub amount: i64,
    pub state: TransferState,
    pub reversed: bool,
    #[serde(default)]
    pub order_id: Option<String>,
    pub reason: String,
    pub actor: String,
    pub created_at: Timestamp,
    /// When a pending transfer is due (in the due index until settled).
    #[serde(default)]
    pub due_at: Option<Timestamp>,
}

/// An immutable line of the ledger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: String,
    pub transfer_id: String,
    pub kind: EntryKind,
    /// + credits coming to the customer, - going.
    pub amount: i64,
    /// The entry's effect on each of the account's sums.
    pub posted: i64,
    pub pending_in: i64,
    pub pending_out: i64,
    pub reference: String,
    pub reason: String,
    pub at: Timestamp,
    pub actor: String,
}
