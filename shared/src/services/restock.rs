//! Adding stock: a file put under `unused/` with no record is adopted (one
//! ledger entry, kind restock). Storage is the truth for what exists.

use std::collections::HashSet;

use serde::Serialize;

use super::listed::REJECTED_SAMPLE;
use super::stock::{StockEntry, delta};
use super::store::files::{self, FileRecord};
use super::store::merge::{Judge, Stock};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{LedgerKind, Location};

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct AdoptReport {
    pub scanned: u64,
    pub adopted: u64,
    /// Files that are not stock (not a valid name, not matching the stock
    /// pattern, a journal with no session file): left where they are.
    pub rejected: u64,
    /// The first of them, for staff.
    pub rejected_keys: Vec<String>,
    /// Files in unused/ whose record says they are elsewhere (reconcile's work).
    pub drift: u64,
    pub backorders_queued: u64,
}

const PAGE: usize = 1000;
/// Two writes per file plus the counters stay under the 100-write limit.
const BATCH: usize = 40;

/// One pass over `unused/`, a page at a time (memory stays flat).
pub async fn adopt_new_files(ctx: &Ctx, actor: &str) -> Result<AdoptReport, ServiceError> {
    let mut report = AdoptReport::default();
    let mut listing = Stock::new(ctx, "unused/", PAGE, Judge::Full);
    while let Some(page) = listing.read_page().await? {
        report.scanned += std::mem::take(&mut listing.listed);
        for (key, why) in std::mem::take(&mut listing.rejected) {
            report.rejected += 1;
            if report.rejected_keys.len() < REJECTED_SAMPLE {
                report.rejected_keys.push(key.clone());
            }
            tracing::warn!(%key, %why, "not stock; not adopted, left where it is");
        }
        let names: Vec<String> = page.into_iter().map(|s| s.name).collect();
        let known = known_unused(ctx, &names).await?;
        let mut fresh = Vec::new();
        for name in names.into_iter().filter(|n| !known.contains(n)) {
            match files::get(ctx, &name).await? {
                // A write-off deletes the record before the object: not new stock.
                None if super::adjust::pending(ctx, &name).await? => report.drift += 1,
                None => fresh.push(name),
                Some(_) => report.drift += 1,
            }
        }
        for batch in fresh.chunks(BATCH) {
            report.adopted += adopt(ctx, batch, actor).await?;
        }
    }
    if report.adopted > 0 {
        super::adjust::fill_waiting(ctx).await?;
        report.backorders_queued = super::jobs::queue_backorders(ctx).await?;
    }
    if report.adopted + report.rejected + report.drift > 0 {
        tracing::info!(?report, "stock scan");
    }
    Ok(report)
}

/// Which of `names` (sorted) the records already list as unused.
async fn known_unused(ctx: &Ctx, names: &[String]) -> Result<HashSet<String>, ServiceError> {
    let (Some(first), Some(last)) = (names.first(), names.last()) else { return Ok(HashSet::new()) };
    let mut known = HashSet::new();
    let mut recs = files::at_between(ctx, Location::Unused, first, last, PAGE);
    while let Some(page) = recs.next_page().await? {
        known.extend(page.into_iter().map(|f| f.name));
    }
    Ok(known)
}

async fn adopt(ctx: &Ctx, names: &[String], actor: &str) -> Result<u64, ServiceError> {
    let mut tx = Tx::new();
    for name in names {
        tx.push((), files::put_new_file(&new_file(ctx, name, Location::Unused))?).stock(adopted(name, actor));
    }
    match tx.commit(ctx).await? {
        Commit::Done => Ok(names.len() as u64),
        // Another scan adopted one of these first: adopt the rest one by one.
        Commit::Refused(()) if names.len() > 1 => {
            let mut n = 0;
            for name in names {
                n += Box::pin(adopt(ctx, std::slice::from_ref(name), actor)).await?;
            }
            Ok(n)
        }
        Commit::Refused(()) => Ok(0),
    }
}

/// The record of a file found in storage without one.
pub(super) fn new_file(ctx: &Ctx, name: &str, loc: Location) -> FileRecord {
    FileRecord {
        name: name.to_string(),
        location: loc,
        user_id: None,
        order_id: None,
        updated_at: ctx.clock.now(),
        ban_on_return: false,
    }
}

/// The ledger entry of a new file in unused/ becoming stock.
pub(super) fn adopted(name: &str, actor: &str) -> StockEntry {
    StockEntry {
        kind: LedgerKind::Restock,
        file: Some(name.to_string()),
        change: delta(1, 0, 0),
        reason: "new file in unused/".into(),
        reference: "stock-scan".into(),
        actor: actor.to_string(),
    }
}
