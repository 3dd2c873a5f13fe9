//! Adding stock: a file put under `unused/` with no record is adopted (one
//! ledger entry, kind restock). Storage is the truth for what exists.

use std::collections::HashSet;

use serde::Serialize;

use super::items::{from_item, to_item};
use super::listed::{Listed, REJECTED_SAMPLE, judge_page};
use super::model::FileRecord;
use super::stock::{StockEntry, delta};
use super::{Ctx, ServiceError, keys};
use crate::domain::{LedgerKind, Location};
use crate::ports::{Cond, Index, Query, SkRange, Write};
use crate::services::tx::{CommitError, commit};

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
    let mut after: Option<String> = None;
    loop {
        let page = ctx.files.list("unused/", after.as_deref(), PAGE).await?;
        let mut names = Vec::with_capacity(page.keys.len());
        report.scanned += page.keys.len() as u64;
        for (key, judged) in page.keys.iter().zip(judge_page(ctx, &page.keys).await?) {
            match judged {
                Listed::Stock { name, .. } => names.push(name),
                Listed::Sidecar => {}
                Listed::Rejected(why) => {
                    report.rejected += 1;
                    if report.rejected_keys.len() < REJECTED_SAMPLE {
                        report.rejected_keys.push(key.clone());
                    }
                    tracing::warn!(%key, %why, "not stock; not adopted, left where it is");
                }
            }
        }
        let known = known_unused(ctx, &names).await?;
        let mut fresh = Vec::new();
        for name in names.into_iter().filter(|n| !known.contains(n)) {
            match ctx.records.get(&keys::file(&name)).await? {
                // A write-off deletes the record before the object: not new stock.
                None if super::adjust::pending(ctx, &name).await? => report.drift += 1,
                None => fresh.push(name),
                Some(_) => report.drift += 1,
            }
        }
        for batch in fresh.chunks(BATCH) {
            report.adopted += adopt(ctx, batch, actor).await?;
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if report.adopted > 0 {
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
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Gsi1, keys::files_at("unused"))
            .sk(SkRange::Between(first.clone(), last.clone()))
            .limit(PAGE)
            .after(cursor);
        let page = ctx.records.query(q).await?;
        for item in page.items {
            known.insert(from_item::<FileRecord>(item)?.name);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(known),
        }
    }
}

async fn adopt(ctx: &Ctx, names: &[String], actor: &str) -> Result<u64, ServiceError> {
    let mut writes = Vec::with_capacity(names.len());
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        writes.push(put_new(&new_file(ctx, name, Location::Unused))?);
        entries.push(adopted(name, actor));
    }
    match commit(ctx, writes, entries, |_| Ok(())).await {
        Ok(_) => Ok(names.len() as u64),
        // Another scan adopted one of these first: adopt the rest one by one.
        Err(CommitError::Condition(_)) if names.len() > 1 => {
            let mut n = 0;
            for name in names {
                n += Box::pin(adopt(ctx, std::slice::from_ref(name), actor)).await?;
            }
            Ok(n)
        }
        Err(CommitError::Condition(_)) => Ok(0),
        Err(CommitError::Service(e)) => Err(e),
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

/// Writes a new file's record; refused if it has one after all.
pub(super) fn put_new(rec: &FileRecord) -> Result<Write, ServiceError> {
    let gsi = (keys::files_at(rec.location.as_str()), rec.name.clone());
    Ok(Write::Put { item: to_item(&keys::file(&rec.name), rec, Some(gsi), None)?, cond: Some(Cond::NotExists) })
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
