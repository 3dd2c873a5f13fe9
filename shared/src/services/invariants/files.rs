//! Conservation and one owner, streamed. unused/, banned/ and frozen/ are
//! merged page by page with their records index (both sorted by name), as
//! reconcile does; assigned/ is sorted by user, so only its listing is held
//! (name -> users) while the FILES#assigned index streams past. A file whose
//! listing and record agree costs nothing more and is forgotten; the rest
//! (suspects) are judged at the end from a strongly consistent read.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::super::store::Pages;
use super::super::store::files::{self, FileRecord};
use super::super::store::merge::{Judge, Merge, Merged, Stock};
use super::super::{Ctx, ServiceError, keys};
use super::owners::Owners;
use super::{Invariant, InvariantReport, PAGE};
use crate::domain::{Location, StockCounts};
use crate::ports::{Index, Item, Query};

/// Files per location as the records and as the listings see them (files
/// in flight counted where their record says).
#[derive(Default)]
pub(super) struct Seen {
    pub records: StockCounts,
    pub listed: StockCounts,
    /// Subscriptions the SUBS index lists as live (they exist: none is
    /// ever deleted).
    pub live: HashSet<String>,
}

/// Files named by unfinished intents (assign, revoke, adjust).
pub(super) async fn in_flight(ctx: &Ctx, report: &mut InvariantReport) -> Result<HashSet<String>, ServiceError> {
    let mut files = HashSet::new();
    // Three kinds share the index: read as items, told apart by their `sk`.
    let mut pages: Pages<Item> = Pages::new(ctx, Query::new(Index::Gsi1, keys::INTENTS_INDEX).limit(100));
    while let Some(page) = pages.next_page().await? {
        for item in page {
            if item.get("done").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let text = |n: &str| item.get(n).and_then(Value::as_str).unwrap_or("?").to_string();
            let what = match item.get("sk").and_then(Value::as_str).unwrap_or("?") {
                "INTENT" => format!("assign {}", text("order_id")),
                "REVOKE" => format!("revoke {}", text("subscription_id")),
                "ADJUST" => format!("adjust {}", text("file")),
                other => format!("{other} {}", text("pk")),
            };
            let names: Vec<String> = item
                .get("files")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            report.in_flight.push(format!("{what}: {}", names.join(", ")));
            files.extend(names);
        }
    }
    Ok(files)
}

fn bump(c: &mut StockCounts, loc: Location) {
    match loc {
        Location::Unused => c.unused += 1,
        Location::Assigned => c.assigned += 1,
        Location::Banned => c.banned += 1,
        Location::Frozen => c.frozen += 1,
    }
}

/// One check's walk over the files.
struct Walk<'a> {
    flight: &'a HashSet<String>,
    seen: Seen,
    /// Names whose listing and record disagreed, with the keys listed for them.
    suspects: BTreeMap<String, Vec<(String, Location)>>,
    owners: Owners,
}

impl Walk<'_> {
    /// A listed stock key (not counted where an intent owns the file).
    fn listed(&mut self, name: &str, key: String, loc: Location, agrees: bool) {
        if self.flight.contains(name) {
            return;
        }
        bump(&mut self.seen.listed, loc);
        if !agrees {
            self.suspects.entry(name.to_string()).or_default().push((key, loc));
        }
    }

    /// A record from the index.
    fn recorded(&mut self, rec: &FileRecord, agrees: bool, report: &mut InvariantReport) {
        report.file_records += 1;
        bump(&mut self.seen.records, rec.location);
        if self.flight.contains(&rec.name) {
            bump(&mut self.seen.listed, rec.location);
        } else if !agrees {
            self.suspects.entry(rec.name.clone()).or_default();
        }
    }
}

/// unused/, banned/ or frozen/ against its index, both in name order.
async fn merge(
    ctx: &Ctx,
    loc: Location,
    walk: &mut Walk<'_>,
    report: &mut InvariantReport,
) -> Result<(), ServiceError> {
    let mut merge = Merge::new(ctx, loc, PAGE, Judge::Quick);
    loop {
        let step = merge.next_merged().await?;
        report.files_listed += std::mem::take(&mut merge.stock.listed);
        match step {
            None => return Ok(()),
            Some(Merged::Both { key, rec }) => {
                let agrees = rec.location == loc;
                walk.listed(&rec.name, key, loc, agrees);
                walk.recorded(&rec, agrees, report);
            }
            Some(Merged::ListedOnly(s)) => walk.listed(&s.name, s.key, loc, false),
            Some(Merged::RecordOnly(rec)) => walk.recorded(&rec, false, report),
        }
    }
}

/// assigned/: the listing held by name, the index streamed against it.
async fn assigned(ctx: &Ctx, walk: &mut Walk<'_>, report: &mut InvariantReport) -> Result<(), ServiceError> {
    let mut listed: HashMap<String, Vec<String>> = HashMap::new();
    let mut stock = Stock::new(ctx, "assigned/", PAGE, Judge::Quick);
    while let Some(s) = stock.next_key().await? {
        report.files_listed += std::mem::take(&mut stock.listed);
        if !walk.flight.contains(&s.name) {
            bump(&mut walk.seen.listed, Location::Assigned);
            listed.entry(s.name).or_default().push(s.key);
        }
    }
    report.files_listed += stock.listed;
    let mut recs = files::at(ctx, Location::Assigned, PAGE);
    while let Some(page) = recs.next_page().await? {
        for rec in page {
            let keys = listed.remove(&rec.name).unwrap_or_default();
            let owner = rec.user_id.as_deref().filter(|_| rec.location == Location::Assigned);
            // A name already suspect (listed elsewhere too) is judged whole later.
            let agrees = owner.is_some()
                && keys.len() == 1
                && keys[0] == rec.storage_key()
                && !walk.suspects.contains_key(&rec.name);
            walk.recorded(&rec, agrees, report);
            if agrees {
                if let Some(user) = owner
                    && !walk.flight.contains(&rec.name)
                    && !walk.owners.claim(&rec.name, user, true)
                {
                    walk.owners.unowned(&rec.storage_key());
                }
            } else if !walk.flight.contains(&rec.name) {
                let entry = walk.suspects.entry(rec.name.clone()).or_default();
                entry.extend(keys.into_iter().map(|k| (k, Location::Assigned)));
            }
        }
    }
    for (name, keys) in listed {
        walk.suspects.entry(name).or_default().extend(keys.into_iter().map(|k| (k, Location::Assigned)));
    }
    Ok(())
}

/// What is wrong with one file's record against its listed keys, if anything.
fn judge(rec: Option<&FileRecord>, listed: &[(String, Location)]) -> Option<String> {
    let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    match rec {
        None if keys.is_empty() => None,
        None => Some(format!("{keys:?} listed with no file record")),
        Some(r) if r.location == Location::Assigned && r.user_id.is_none() => {
            Some(format!("record of {} is assigned to nobody", r.name))
        }
        Some(r) if keys.is_empty() => Some(format!("record says {}; no such file", r.storage_key())),
        Some(_) if keys.len() > 1 => Some(format!("one file at several places: {keys:?}")),
        Some(r) if keys[0] != r.storage_key() => {
            Some(format!("record says {}, file is at {}", r.storage_key(), keys[0]))
        }
        Some(_) => None,
    }
}

/// Suspects, judged from a strongly consistent read (the index may lag the
/// table, as on DynamoDB). A key that agreed in an earlier merge was not
/// kept, so the other prefixes are looked up by head.
async fn resolve(ctx: &Ctx, walk: &mut Walk<'_>, report: &mut InvariantReport) -> Result<(), ServiceError> {
    for (name, mut listed) in std::mem::take(&mut walk.suspects) {
        for loc in [Location::Unused, Location::Banned, Location::Frozen] {
            let key = format!("{}/{name}", loc.as_str());
            if !listed.iter().any(|(k, _)| *k == key) && ctx.files.head(&key).await?.is_some() {
                listed.push((key, loc));
            }
        }
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let fresh = files::get(ctx, &name).await?;
        if let Some(why) = judge(fresh.as_ref(), &listed) {
            report.add(Invariant::Conservation, why);
        }
        if let Some(r) = fresh.filter(|r| r.location == Location::Assigned) {
            let here = listed.iter().any(|(k, _)| *k == r.storage_key());
            let owned = r.user_id.as_deref().is_some_and(|u| walk.owners.claim(&name, u, here));
            if !owned {
                walk.owners.unowned(&r.storage_key());
            }
        }
    }
    Ok(())
}

pub(super) async fn check(
    ctx: &Ctx,
    flight: &HashSet<String>,
    report: &mut InvariantReport,
) -> Result<Seen, ServiceError> {
    let owners = Owners::load(ctx).await?;
    let mut walk = Walk { flight, seen: Seen::default(), suspects: BTreeMap::new(), owners };
    for loc in [Location::Unused, Location::Banned, Location::Frozen] {
        merge(ctx, loc, &mut walk, report).await?;
    }
    assigned(ctx, &mut walk, report).await?;
    resolve(ctx, &mut walk, report).await?;
    walk.seen.live = walk.owners.live_ids();
    walk.owners.finish(flight, report);
    Ok(walk.seen)
}
