//! What the services store. One struct per record kind.

use serde::{Deserialize, Serialize};

pub use super::store::orders::{HoldRecord, IntentRecord, OrderRecord, PaymentRecord, Purpose};
use crate::domain::{EndReason, LedgerKind, Location, StockCounts, Timestamp};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileRecord {
    pub name: String,
    pub location: Location,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
    pub updated_at: Timestamp,
    /// Staff flagged it: when it comes back it goes to banned/, not unused/.
    #[serde(default)]
    pub ban_on_return: bool,
}

impl FileRecord {
    /// The storage key the record says the file is at.
    pub fn storage_key(&self) -> String {
        match (&self.location, &self.user_id) {
            (Location::Assigned, Some(u)) => format!("assigned/{u}/{}", self.name),
            (loc, _) => format!("{}/{}", loc.as_str(), self.name),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub subscription_id: String,
    pub order_id: String,
    pub user_id: String,
    pub email: String,
    pub product_id: String,
    pub files: Vec<String>,
    pub interval_seconds: u32,
    pub valid_until: Timestamp,
    pub created_at: Timestamp,
    /// Set once, when it ends (its files then go back). Absent, not null,
    /// until then: writes guard on its absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<EndReason>,
    /// The expiry job has seen it enter grace (and told the buyer).
    #[serde(default)]
    pub grace_noted: bool,
    /// Bumped by every change of files or dates (optimistic lock).
    #[serde(default)]
    pub rev: u64,
    /// Files staff banned while no replacement was in stock: they stay in use
    /// and go to banned/ when they come back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flagged: Vec<String>,
}

/// The stock counters, guarded by `version` (optimistic lock): every stock
/// change bumps it, so ledger entries get a gap-free order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CountsRecord {
    #[serde(flatten)]
    pub counts: StockCounts,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub seq: String,
    pub at: Timestamp,
    pub kind: LedgerKind,
    #[serde(default)]
    pub file: Option<String>,
    /// Change of available stock (unused - reserved), and its value around it.
    pub delta: i64,
    pub before: i64,
    pub after: i64,
    /// All counts after this entry.
    pub counts: StockCounts,
    pub reason: String,
    pub reference: String,
    pub actor: String,
}

/// Files going back from a subscription (or a claim) to stock, written before
/// any file moves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokeIntent {
    pub subscription_id: String,
    pub order_id: String,
    pub user_id: String,
    pub files: Vec<String>,
    pub reason: EndReason,
    pub actor: String,
    pub created_at: Timestamp,
    pub done: bool,
    /// Staff's words for the ledger and the owner (`deleted by staff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
