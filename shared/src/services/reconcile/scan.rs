//! unused/, banned/ and frozen/: the listing and the records index
//! (`FILES#{location}`) are both sorted by file name, so one merge walks them
//! side by side a page at a time. Agreement costs nothing more; every
//! disagreement is settled from a strongly consistent read.

use std::collections::VecDeque;

use super::super::items::from_item;
use super::super::listed::{Listed, judge_page};
use super::super::model::FileRecord;
use super::super::restock::{adopted, new_file, put_new};
use super::super::{ServiceError, keys};
use super::settle::{Place, Settled, settle, unchanged};
use super::{Applied, PAGE, Run, intents, one};
use crate::domain::{LedgerKind, Location};
use crate::ports::{Index, Query, Write};

/// Two writes per file plus the counters stay under the 100-write limit.
const BATCH: usize = 40;

/// One side of the merge: a page of names and where the next page starts.
#[derive(Default)]
struct Side {
    buf: VecDeque<String>,
    cursor: Option<String>,
    done: bool,
}

enum Step {
    Both,
    StorageOnly,
    RecordOnly,
}

pub(super) async fn location(run: &mut Run<'_>, loc: Location) -> Result<(), ServiceError> {
    let prefix = format!("{}/", loc.as_str());
    let (mut files, mut recs) = (Side::default(), Side::default());
    let mut fresh = Vec::new();
    loop {
        while files.buf.is_empty() && !files.done {
            list_page(run, &prefix, &mut files).await?;
        }
        while recs.buf.is_empty() && !recs.done {
            index_page(run, loc, &mut recs).await?;
        }
        let step = match (files.buf.front(), recs.buf.front()) {
            (None, None) => break,
            (Some(f), Some(r)) if f == r => Step::Both,
            (Some(f), Some(r)) if f < r => Step::StorageOnly,
            (Some(_), None) => Step::StorageOnly,
            _ => Step::RecordOnly,
        };
        match step {
            Step::Both => {
                files.buf.pop_front();
                recs.buf.pop_front();
                run.matched_at(loc);
            }
            Step::StorageOnly => {
                let Some(name) = files.buf.pop_front() else { continue };
                if loc == Location::Unused {
                    fresh.push(name);
                    if fresh.len() >= BATCH {
                        adopt(run, std::mem::take(&mut fresh)).await?;
                    }
                } else {
                    unrecorded(run, loc, &name).await?;
                }
            }
            Step::RecordOnly => {
                let Some(name) = recs.buf.pop_front() else { continue };
                if run.ctx.settings.stock_pattern.stock(&name).is_some() {
                    settle(run, &name, None).await?;
                } else {
                    retire(run, loc, &name).await?;
                }
            }
        }
    }
    adopt(run, fresh).await
}

async fn list_page(run: &mut Run<'_>, prefix: &str, side: &mut Side) -> Result<(), ServiceError> {
    let page = run.ctx.files.list(prefix, side.cursor.as_deref(), PAGE).await?;
    run.report.scanned += page.keys.len() as u64;
    for (key, judged) in page.keys.iter().zip(judge_page(run.ctx, &page.keys).await?) {
        match judged {
            Listed::Stock { name, .. } => side.buf.push_back(name),
            Listed::Sidecar => {}
            Listed::Rejected(why) => run.reject(key, &why),
        }
    }
    side.done = page.next.is_none();
    side.cursor = page.next;
    Ok(())
}

async fn index_page(run: &mut Run<'_>, loc: Location, side: &mut Side) -> Result<(), ServiceError> {
    let q = Query::new(Index::Gsi1, keys::files_at(loc.as_str())).limit(PAGE).after(side.cursor.take());
    let page = run.ctx.records.query(q).await?;
    for item in page.items {
        side.buf.push_back(from_item::<FileRecord>(item)?.name);
    }
    side.done = page.next.is_none();
    side.cursor = page.next;
    Ok(())
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
        let mut writes = Vec::with_capacity(names.len());
        let mut entries = Vec::with_capacity(names.len());
        for name in &names {
            writes.push(put_new(&new_file(run.ctx, name, Location::Unused))?);
            entries.push(adopted(name, run.actor));
        }
        match run.commit(writes, entries).await? {
            Applied::Yes => {
                run.report.adopted += names.len() as u64;
                run.matched = super::super::stock::add(run.matched, one(Location::Unused, names.len() as i64));
                run.stock_returned = true;
                return Ok(());
            }
            Applied::Refused(i) if i < names.len() => {
                let name = names.remove(i);
                if let Settled::Done { here: true } = settle(run, &name, Some(&Place::at(Location::Unused))).await? {
                    run.matched_at(Location::Unused);
                }
            }
            Applied::Refused(_) => return Ok(()),
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
            let entry = run.entry(LedgerKind::Reconcile, name, one(loc, 1), reason);
            if let Applied::Yes = run.commit(vec![put_new(&rec)?], vec![entry]).await? {
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
    let Some(item) = run.ctx.records.get(&keys::file(name)).await? else { return Ok(()) };
    let rec: FileRecord = from_item(item)?;
    // Moved since the index was read: the next run looks again.
    if rec.location != loc {
        return Ok(());
    }
    if intents::owned(run.ctx, &rec).await? {
        run.report.in_flight += 1;
        return Ok(());
    }
    let writes = vec![Write::Delete { key: keys::file(name), cond: Some(unchanged(&rec)) }];
    let pattern = &run.ctx.settings.stock_pattern;
    let reason =
        format!("'{name}' is not stock (stock pattern '{pattern}'); its record is retired, the file left in {loc}/");
    let entry = run.entry(LedgerKind::Reconcile, name, one(loc, -1), reason);
    if let Applied::Yes = run.commit(writes, vec![entry]).await? {
        run.report.repaired += 1;
        tracing::warn!(file = name, %loc, "retired the record of a file that is not stock");
    }
    Ok(())
}
