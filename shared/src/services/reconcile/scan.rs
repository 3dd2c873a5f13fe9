//! unused/, banned/ and frozen/: the listing and the records index
//! (`FILES#{location}`) are both sorted by file name, so one merge walks them
//! side by side a page at a time. Agreement costs nothing more; every
//! disagreement is settled from a strongly consistent read.

use super::super::ServiceError;
use super::super::restock::{adopted, new_file};
use super::super::store::merge::{Judge, Merge, Merged};
use super::super::store::{Guard, files};
use super::super::tx::{Commit, Tx};
use super::settle::{Place, Settled, settle};
use super::{PAGE, Run, intents, one};
use crate::domain::{LedgerKind, Location};

/// Two writes per file plus the counters stay under the 100-write limit.
const BATCH: usize = 40;

pub(super) async fn location(run: &mut Run<'_>, loc: Location) -> Result<(), ServiceError> {
    let mut merge = Merge::new(run.ctx, loc, PAGE, Judge::Full);
    let mut fresh = Vec::new();
    loop {
        let step = merge.next_merged().await?;
        run.listed(&mut merge.stock);
        let Some(step) = step else { break };
        if let Some(walk) = run.walk() {
            walk.merged(loc, &step);
        }
        match step {
            Merged::Both { .. } => run.matched_at(loc),
            Merged::ListedOnly(listed) => {
                if loc == Location::Unused {
                    fresh.push(listed.name);
                    if fresh.len() >= BATCH {
                        adopt(run, std::mem::take(&mut fresh)).await?;
                    }
                } else {
                    unrecorded(run, loc, &listed.name).await?;
                }
            }
            Merged::RecordOnly(rec) => {
                if run.ctx.settings.stock_pattern.stock(&rec.name).is_some() {
                    settle(run, &rec.name, None).await?;
                } else {
                    retire(run, loc, &rec.name).await?;
                }
            }
        }
    }
    adopt(run, fresh).await
}

/// New files in unused/ become stock, a batch per commit. A file that has a
/// record after all (the index lags, or it drifted here) is settled alone.
async fn adopt(run: &mut Run<'_>, names: Vec<String>) -> Result<(), ServiceError> {
    // A write-off deletes the record before the object: not new stock.
    let mut fresh = Vec::with_capacity(names.len());
    for name in names {
        if super::super::adjust::pending(run.ctx, &name).await? {
            run.report.in_flight += 1;
        } else {
            fresh.push(name);
        }
    }
    let mut names = fresh;
    while !names.is_empty() {
        // Each record is tagged with its file's name.
        let mut tx = Tx::new();
        for name in &names {
            tx.push(name.as_str(), files::put_new_file(&new_file(run.ctx, name, Location::Unused))?);
            tx.stock(adopted(name, run.actor));
        }
        match run.commit(tx).await? {
            Commit::Done => {
                run.report.adopted += names.len() as u64;
                run.matched = super::super::stock::add(run.matched, one(Location::Unused, names.len() as i64));
                run.stock_returned = true;
                return Ok(());
            }
            // It has a record after all: settled alone, the rest again.
            Commit::Refused(name) => {
                let name = name.to_string();
                names.retain(|n| *n != name);
                if let Settled::Done { here: true } = settle(run, &name, Some(&Place::at(Location::Unused))).await? {
                    run.matched_at(Location::Unused);
                }
            }
        }
    }
    Ok(())
}

/// A file in banned/ or frozen/ the index does not list there.
async fn unrecorded(run: &mut Run<'_>, loc: Location, name: &str) -> Result<(), ServiceError> {
    match settle(run, name, Some(&Place::at(loc))).await? {
        Settled::Done { here } => {
            if here {
                run.matched_at(loc);
            }
        }
        // No record at all: storage is the truth, so it is stock there.
        Settled::NoRecord => {
            let rec = new_file(run.ctx, name, loc);
            let reason = format!("file in {loc}/ had no record");
            let mut tx = Tx::new();
            tx.push((), files::put_new_file(&rec)?).stock(run.entry(LedgerKind::Reconcile, name, one(loc, 1), reason));
            if run.commit(tx).await?.is_done() {
                run.report.repaired += 1;
                run.matched_at(loc);
                tracing::warn!(file = name, %loc, "recorded a file that had no record");
            }
        }
    }
    Ok(())
}

/// A record of a file that is not stock (adopted before the stock pattern
/// said so, or the pattern changed): it stops being stock, so it is never
/// sold or counted. The file stays where it is, like any other junk.
async fn retire(run: &mut Run<'_>, loc: Location, name: &str) -> Result<(), ServiceError> {
    let Some(rec) = files::get(run.ctx, name).await? else { return Ok(()) };
    // Moved since the index was read: the next run looks again.
    if rec.location != loc {
        return Ok(());
    }
    if intents::owned(run.ctx, &rec).await? {
        run.report.in_flight += 1;
        return Ok(());
    }
    let mut tx = Tx::new();
    tx.push((), files::delete(name).when(files::untouched(&rec)?));
    let pattern = &run.ctx.settings.stock_pattern;
    let reason =
        format!("'{name}' is not stock (stock pattern '{pattern}'); its record is retired, the file left in {loc}/");
    tx.stock(run.entry(LedgerKind::Reconcile, name, one(loc, -1), reason));
    if run.commit(tx).await?.is_done() {
        run.report.repaired += 1;
        tracing::warn!(file = name, %loc, "retired the record of a file that is not stock");
    }
    Ok(())
}
