//! The stock book: every stock change commits its ledger entries and the new
//! counts in the same transaction as the change itself (invariant 7), under an
//! optimistic lock on the counters so the ledger has one gap-free order.

use serde_json::Value;

use super::items::{from_item, to_item};
use super::model::{CountsRecord, LedgerEntry};
use super::{Ctx, ServiceError, keys};
use crate::domain::{LedgerKind, StockCounts};
use crate::ports::{Change, Cond, Write};

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
    match ctx.records.get(&keys::stock_counts()).await? {
        Some(item) => Ok(from_item(item)?),
        None => Ok(CountsRecord::default()),
    }
}

/// The whole transaction for `writes` that book `entries`: the caller's
/// writes first, then one ledger line per entry and the counters, guarded
/// by their version (a stock change with no entries writes no version, or
/// the ledger would skip a number).
pub(super) fn plan(
    ctx: &Ctx,
    writes: &[Write],
    entries: &[StockEntry],
    current: &CountsRecord,
) -> Result<Vec<Write>, ServiceError> {
    let version = current.version + 1;
    let now = ctx.clock.now();
    let mut counts = current.counts;
    let mut all = writes.to_vec();
    for (n, e) in entries.iter().enumerate() {
        let before = counts.available();
        counts = add(counts, e.change);
        let key = keys::ledger(version, n);
        let entry = LedgerEntry {
            id: format!("L{version:012}.{n:03}"),
            seq: key.sk.clone(),
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
        all.push(Write::Put { item: to_item(&key, &entry, None, None)?, cond: Some(Cond::NotExists) });
    }
    // No stock change (an extension holds no files): no new version, or the
    // ledger would skip a number.
    if entries.is_empty() {
        return Ok(all);
    }
    let guard = if current.version == 0 { Cond::NotExists } else { Cond::eq("version", current.version) };
    let set = |name: &str, v: i64| Change::Set(name.into(), Value::from(v));
    all.push(Write::Update {
        key: keys::stock_counts(),
        changes: vec![
            set("unused", counts.unused),
            set("reserved", counts.reserved),
            set("assigned", counts.assigned),
            set("banned", counts.banned),
            set("frozen", counts.frozen),
            Change::Set("version".into(), Value::from(version)),
        ],
        cond: Some(guard),
    });
    Ok(all)
}

/// Shorthands for count changes.
pub fn delta(unused: i64, reserved: i64, assigned: i64) -> StockCounts {
    StockCounts { unused, reserved, assigned, banned: 0, frozen: 0 }
}
