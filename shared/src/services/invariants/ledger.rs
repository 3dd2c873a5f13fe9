//! The stock ledger replays to the counters: entries are gap-free
//! (`{version}.{n}`), each continues from the one before, and the last one's
//! counts are the counters.
//!
//! Checkpoint: when a replay ends exactly at the counters, reconcile keeps
//! its last entry (the anchor) and the count of entries up to it. The next
//! replay starts after the anchor from its counts. What that trusts: the
//! entries up to the anchor were sound when replayed, and the ledger is
//! append-only (every entry is written once, under `NotExists`), so they
//! still are. A later edit of an entry before the anchor is not looked for
//! (a full replay, `check_full`, still finds it). What is verified each time:
//! the anchor entry is still stored exactly as it was and the counters have
//! not gone back before it; otherwise the checkpoint belongs to another
//! ledger state (a restore, a rebuilt table) and the replay starts from the
//! beginning. Everything after the anchor is replayed in full.

use super::super::store::{self, stock as book};
use super::super::{Ctx, ServiceError};
use super::{Invariant, InvariantReport, show};
use crate::domain::StockCounts;

pub use book::LedgerCheckpoint;
use book::{CountsRecord, position};

/// The stored checkpoint, if it belongs to this ledger.
async fn trusted(ctx: &Ctx, counts: &CountsRecord) -> Result<Option<LedgerCheckpoint>, ServiceError> {
    let Some(cp) = book::checkpoint(ctx).await? else { return Ok(None) };
    let (v, n) = position(&cp.anchor.seq);
    let stored = book::entry(ctx, v, n as usize).await?;
    if v != cp.version || cp.version > counts.version || stored.as_ref() != Some(&cp.anchor) {
        tracing::warn!(anchor = %cp.anchor.seq, "ledger checkpoint does not match the ledger; replaying all of it");
        return Ok(None);
    }
    Ok(Some(cp))
}

/// Replays the ledger (from the checkpoint when `from_checkpoint`) against
/// `counts`. Returns the checkpoint this replay earned, if it ended at them.
pub(super) async fn replay(
    ctx: &Ctx,
    counts: &CountsRecord,
    from_checkpoint: bool,
    report: &mut InvariantReport,
) -> Result<Option<LedgerCheckpoint>, ServiceError> {
    let start = if from_checkpoint { trusted(ctx, counts).await? } else { None };
    let (mut prev, mut at, mut entries, mut last) = (StockCounts::default(), (0u64, 0u64), 0, None);
    let mut after = None;
    if let Some(cp) = start {
        at = position(&cp.anchor.seq);
        after = Some(at);
        (prev, entries) = (cp.anchor.counts, cp.entries);
        report.ledger_from = Some(cp.anchor.seq.clone());
        last = Some(cp.anchor);
    }
    let mut found = Vec::new();
    let mut pages = book::entries(ctx, after, 500);
    while let Some(page) = pages.next_page().await? {
        for e in page {
            report.ledger_read += 1;
            entries += 1;
            let (v, n) = position(&e.seq);
            if (v, n) != (at.0, at.1 + 1) && (v, n) != (at.0 + 1, 0) {
                found.push(format!("entry {} follows {}.{}: a gap", e.seq, at.0, at.1));
            }
            if e.before != prev.available() || e.after != e.counts.available() || e.delta != e.after - e.before {
                found.push(format!("entry {} does not continue from {}", e.seq, show(&prev)));
            }
            (prev, at) = (e.counts, (v, n));
            last = Some(e);
        }
    }
    report.ledger_entries = entries;
    if prev != counts.counts || at.0 != counts.version {
        found.push(format!(
            "the ledger ends at version {} with {}; the counters are version {} with {}",
            at.0,
            show(&prev),
            counts.version,
            show(&counts.counts)
        ));
    }
    let earned =
        if found.is_empty() { last.map(|anchor| LedgerCheckpoint { version: at.0, entries, anchor }) } else { None };
    found.into_iter().for_each(|f| report.add(Invariant::Ledger, f));
    Ok(earned)
}

/// Keeps `cp` unless a later checkpoint is already stored.
pub(super) async fn save(ctx: &Ctx, cp: &LedgerCheckpoint) -> Result<(), ServiceError> {
    store::apply(ctx, book::save_checkpoint(cp)?).await?;
    Ok(())
}
