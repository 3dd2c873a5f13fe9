//! Ledger lines for tests that need a history behind what they read.

use crate::domain::{LedgerKind, StockCounts, Timestamp};
use crate::services::store::stock::{self as book, LedgerEntry};

/// A line of `kind` about `reference` at version `version` (id
/// `line{version}`), one file into stock.
pub fn line(version: u64, kind: LedgerKind, reference: &str, at: Timestamp) -> LedgerEntry {
    LedgerEntry {
        id: format!("line{version}"),
        seq: book::seq(version, 0),
        at,
        kind,
        file: None,
        delta: 1,
        before: 0,
        after: 1,
        counts: StockCounts::default(),
        reason: "filler".into(),
        reference: reference.into(),
        actor: "test".into(),
    }
}
