//! The stock book: every stock change commits its ledger entries and the new
//! counts in the same transaction as the change itself (invariant 7), under an
//! optimistic lock on the counters so the ledger has one gap-free order.

use super::store::stock::{self as ledger, CountsRecord, LedgerEntry};
use super::{Ctx, ServiceError};
use crate::domain::{LedgerKind, StockCounts, Timestamp};
use crate::ports::Write;

/// One ledger line: what changed, by how much, why and who did it.
#[derive(Clone, Debug)]
pub struct StockEntry {
    pub kind: LedgerKind,
    pub file: Option<String>,
    /// Added to the counts (negative to take away).
    pub change: StockCounts,
    pub reason: String,
    pub reference: String,
    pub actor: String,
}

pub fn add(a: StockCounts, b: StockCounts) -> StockCounts {
    StockCounts {
        unused: a.unused + b.unused,
        reserved: a.reserved + b.reserved,
        assigned: a.assigned + b.assigned,
        banned: a.banned + b.banned,
        frozen: a.frozen + b.frozen,
    }
}

pub async fn read_counts(ctx: &Ctx) -> Result<CountsRecord, ServiceError> {
    ledger::counts(ctx).await
}

/// Books `entries` after `current`: one ledger line each, pushed onto
/// `all`, under the next version; the counts and version after them. The
/// caller writes the counters once, guarded by the version it read (a stock
/// change with no entries takes no version, or the ledger would skip a
/// number).
pub(super) fn book(
    all: &mut Vec<Write>,
    entries: &[StockEntry],
    current: &CountsRecord,
    now: Timestamp,
) -> Result<CountsRecord, ServiceError> {
    let version = current.version + 1;
    let mut counts = current.counts;
    for (n, e) in entries.iter().enumerate() {
        let before = counts.available();
        counts = add(counts, e.change);
        let seq = ledger::seq(version, n);
        let entry = LedgerEntry {
            id: format!("L{seq}"),
            seq,
            at: now,
            kind: e.kind,
            file: e.file.clone(),
            delta: counts.available() - before,
            before,
            after: counts.available(),
            counts,
            reason: e.reason.clone(),
            reference: e.reference.clone(),
            actor: e.actor.clone(),
        };
        all.push(ledger::put_entry(&entry)?);
    }
    Ok(CountsRecord { counts, version })
}

/// Shorthands for count changes.
pub fn delta(unused: i64, reserved: i64, assigned: i64) -> StockCounts {
    StockCounts { unused, reserved, assigned, banned: 0, frozen: 0 }
}
