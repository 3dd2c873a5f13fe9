//! The ledger by reference: each line is indexed under what it names (an
//! order, a subscription), so a view of one order reads its lines without
//! walking the ledger back to it. Lines booked before the index existed get
//! their entry from reconcile, a bounded slice per run.

use serde::{Deserialize, Serialize};

use super::stock::{self as book, LEDGER_PK, LedgerEntry};
use super::{Pages, read};
use crate::ports::records::{GSI1PK, GSI1SK, MAX_TRANSACTION_ITEMS};
use crate::ports::{Change, Cond, Index, Key, Query, Records, Write};
use crate::services::items::to_item;
use crate::services::{Ctx, ServiceError};

/// Lines one reconcile run indexes at most.
const PER_RUN: usize = 5_000;

fn partition(reference: &str) -> String {
    format!("LEDGER_REF#{reference}")
}

/// The index entry of a line; none for a line that names nothing.
pub fn gsi(e: &LedgerEntry) -> Option<(String, String)> {
    (!e.reference.is_empty()).then(|| (partition(&e.reference), e.seq.clone()))
}

/// The lines that name `reference`, newest first, from `before` down
/// (inclusive, as `stock::newest_below`).
pub fn referencing<'a>(ctx: &'a Ctx, reference: &str, before: Option<&str>, limit: usize) -> Pages<'a, LedgerEntry> {
    Pages::new(ctx, book::at_or_below(Query::new(Index::Gsi1, partition(reference)), before).limit(limit))
}

/// How far the backfill got (outside the LEDGER partition, so reading the
/// ledger never returns it).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// The newest line when the backfill began: later ones were indexed
    /// when they were written.
    until: String,
    /// The last line indexed so far.
    after: Option<String>,
    done: bool,
}

pub(crate) fn progress_key() -> Key {
    Key::new("STOCK", "LEDGER_INDEXED")
}

/// True once every line is in the index.
pub async fn complete(ctx: &Ctx) -> Result<bool, ServiceError> {
    Ok(read::<Progress>(ctx, &progress_key()).await?.is_some_and(|p| p.done))
}

/// A ledger line as stored, with its index entry if it has one.
#[derive(Deserialize)]
struct Stored {
    #[serde(flatten)]
    line: LedgerEntry,
    #[serde(default)]
    gsi1pk: Option<String>,
}

/// Marks the backfill done before the ledger's first line: a ledger this
/// version begins has no line without its index entry. Called with the
/// counters still at version 0; a failure only leaves reconcile a walk.
pub async fn begun_indexed(records: &dyn Records) {
    let progress = Progress { done: true, ..Progress::default() };
    let put = match to_item(&progress_key(), &progress, None, None) {
        Ok(item) => records.put(item, None).await,
        Err(e) => Err(e),
    };
    if let Err(e) = put {
        tracing::warn!(error = %e, "could not mark the new ledger indexed; reconcile will walk it once");
    }
}

/// Indexes up to `PER_RUN` lines booked before the index existed, oldest
/// first, and records how far it got; once done, one read per run. Returns
/// the lines indexed.
pub async fn backfill(ctx: &Ctx) -> Result<u64, ServiceError> {
    let mut progress = match read::<Progress>(ctx, &progress_key()).await? {
        Some(p) if p.done => return Ok(0),
        Some(p) => p,
        None => {
            let newest = book::newest_first(ctx, 1).next_page().await?.unwrap_or_default();
            Progress { until: newest.first().map(|e| e.seq.clone()).unwrap_or_default(), ..Progress::default() }
        }
    };
    let after = progress.after.as_deref().map(book::position);
    let mut pages: Pages<'_, Stored> = Pages::new(ctx, book::in_order(after, MAX_TRANSACTION_ITEMS));
    let (mut walked, mut indexed) = (0, 0);
    progress.done = true;
    let mut end = false;
    while !end && let Some(page) = pages.next_page().await? {
        let mut writes = Vec::new();
        for s in page {
            // Later lines were indexed when they were written.
            end = s.line.seq > progress.until;
            if end {
                break;
            }
            if s.gsi1pk.is_none() {
                writes.extend(add_index(&s.line));
            }
            progress.after = Some(s.line.seq);
            walked += 1;
        }
        indexed += writes.len();
        if !writes.is_empty() {
            ctx.records.transact(writes).await?;
        }
        if !end && walked >= PER_RUN {
            progress.done = false;
            break;
        }
    }
    let item = to_item(&progress_key(), &progress, None, None)?;
    ctx.records.put(item, None).await?;
    Ok(indexed as u64)
}

/// Adds a line's index entry (the same values a new line gets).
fn add_index(e: &LedgerEntry) -> Option<Write> {
    let (pk, sk) = gsi(e)?;
    Some(Write::Update {
        key: Key::new(LEDGER_PK, e.seq.clone()),
        changes: vec![Change::Set(GSI1PK.into(), pk.into()), Change::Set(GSI1SK.into(), sk.into())],
        cond: Some(Cond::Exists),
    })
}
