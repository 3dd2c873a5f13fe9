//! Conservation and one owner, streamed. unused/, banned/ and frozen/ are
//! merged page by page with their records index (both sorted by name), as
//! reconcile does; assigned/ is sorted by user, so only its listing is held
//! (name -> users) while the FILES#assigned index streams past. A file whose
//! listing and record agree costs nothing more and is forgotten; the rest
//! (suspects) are judged at the end from a strongly consistent read.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::super::store::files::{self, FileRecord};
use super::super::store::intents;
use super::super::store::merge::{Judge, Merge, Merged, Stock, StockKey};
use super::super::{Ctx, ServiceError};
use super::owners::Owners;
use super::{Invariant, InvariantReport, PAGE};
use crate::domain::{Location, StockCounts};

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

/// Files named by unfinished intents (assign, revoke, adjust), and a line
/// for each intent.
pub(super) async fn in_flight(ctx: &Ctx, lines: &mut Vec<String>) -> Result<HashSet<String>, ServiceError> {
    let mut files = HashSet::new();
    intents::each_pending(ctx, None, |p| {
        lines.push(format!("{}: {}", p.kind, p.files.join(", ")));
        files.extend(p.files);
    })
    .await?;
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

/// One check's walk over the files. The checker feeds it from its own
/// listings; reconcile, which reads the same listings and index pages just
/// before, can feed it from its own and hand it over (`Walked`), so a pass
/// that changed nothing is not read twice.
pub struct FileWalk {
    flight: HashSet<String>,
    /// One line per unfinished intent.
    intents: Vec<String>,
    seen: Seen,
    /// Names whose listing and record disagreed, with the keys listed for them.
    suspects: BTreeMap<String, Vec<(String, Location)>>,
    owners: Owners,
    /// assigned/ is sorted by user: its listing is held by name.
    assigned: HashMap<String, Vec<String>>,
    files_listed: u64,
    file_records: u64,
}

impl FileWalk {
    /// Reads what the walk judges against: intents in flight and the live
    /// subscriptions.
    pub async fn open_walk(ctx: &Ctx) -> Result<FileWalk, ServiceError> {
        let mut intents = Vec::new();
        let flight = in_flight(ctx, &mut intents).await?;
        let owners = Owners::load(ctx).await?;
        Ok(FileWalk {
            flight,
            intents,
            seen: Seen::default(),
            suspects: BTreeMap::new(),
            owners,
            assigned: HashMap::new(),
            files_listed: 0,
            file_records: 0,
        })
    }

    /// The intents unfinished when the walk opened.
    pub fn intents_open(&self) -> usize {
        self.intents.len()
    }

    /// Keys a listing read (stock or not).
    pub fn keys_listed(&mut self, n: u64) {
        self.files_listed += n;
    }

    /// One step of the merge of unused/, banned/ or frozen/ with its index.
    pub fn merged(&mut self, loc: Location, step: &Merged) {
        match step {
            Merged::Both { key, rec } => {
                let agrees = rec.location == loc;
                self.listed(&rec.name, key, loc, agrees);
                self.recorded(rec, agrees);
            }
            Merged::ListedOnly(s) => self.listed(&s.name, &s.key, loc, false),
            Merged::RecordOnly(rec) => self.recorded(rec, false),
        }
    }

    /// One stock key listed under assigned/.
    pub fn assigned_key(&mut self, s: &StockKey) {
        if !self.flight.contains(&s.name) {
            bump(&mut self.seen.listed, Location::Assigned);
            self.assigned.entry(s.name.clone()).or_default().push(s.key.clone());
        }
    }

    /// A listed stock key (not counted where an intent owns the file).
    fn listed(&mut self, name: &str, key: &str, loc: Location, agrees: bool) {
        if self.flight.contains(name) {
            return;
        }
        bump(&mut self.seen.listed, loc);
        if !agrees {
            self.suspects.entry(name.to_string()).or_default().push((key.to_string(), loc));
        }
    }

    /// A record from the index.
    fn recorded(&mut self, rec: &FileRecord, agrees: bool) {
        self.file_records += 1;
        bump(&mut self.seen.records, rec.location);
        if self.flight.contains(&rec.name) {
            bump(&mut self.seen.listed, rec.location);
        } else if !agrees {
            self.suspects.entry(rec.name.clone()).or_default();
        }
    }

    /// The FILES#assigned index streamed against the held listing.
    async fn assigned_index(&mut self, ctx: &Ctx) -> Result<(), ServiceError> {
        let mut recs = files::at(ctx, Location::Assigned, PAGE);
        while let Some(page) = recs.next_page().await? {
            for rec in page {
                let keys = self.assigned.remove(&rec.name).unwrap_or_default();
                let owner = rec.user_id.as_deref().filter(|_| rec.location == Location::Assigned);
                // A name already suspect (listed elsewhere too) is judged whole later.
                let agrees = owner.is_some()
                    && keys.len() == 1
                    && keys[0] == rec.storage_key()
                    && !self.suspects.contains_key(&rec.name);
                self.recorded(&rec, agrees);
                if agrees {
                    if let Some(user) = owner
                        && !self.flight.contains(&rec.name)
                        && !self.owners.claim(&rec.name, user, true)
                    {
                        self.owners.unowned(&rec.storage_key());
                    }
                } else if !self.flight.contains(&rec.name) {
                    let entry = self.suspects.entry(rec.name.clone()).or_default();
                    entry.extend(keys.into_iter().map(|k| (k, Location::Assigned)));
                }
            }
        }
        for (name, keys) in std::mem::take(&mut self.assigned) {
            self.suspects.entry(name).or_default().extend(keys.into_iter().map(|k| (k, Location::Assigned)));
        }
        Ok(())
    }

    /// Ends the walk: the assigned index, then the suspects judged. Returns
    /// what was seen and the files in flight when the walk started.
    pub(super) async fn conclude(
        mut self,
        ctx: &Ctx,
        report: &mut InvariantReport,
    ) -> Result<(Seen, HashSet<String>), ServiceError> {
        self.assigned_index(ctx).await?;
        self.resolve(ctx, report).await?;
        self.seen.live = self.owners.live_ids();
        self.owners.finish(&self.flight, report);
        report.in_flight = self.intents;
        report.files_listed = self.files_listed;
        report.file_records = self.file_records;
        Ok((self.seen, self.flight))
    }
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

impl FileWalk {
    /// Suspects, judged from a strongly consistent read (the index may lag the
    /// table, as on DynamoDB). A key that agreed in an earlier merge was not
    /// kept, so the other prefixes are looked up by head.
    async fn resolve(&mut self, ctx: &Ctx, report: &mut InvariantReport) -> Result<(), ServiceError> {
        for (name, mut listed) in std::mem::take(&mut self.suspects) {
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
                let owned = r.user_id.as_deref().is_some_and(|u| self.owners.claim(&name, u, here));
                if !owned {
                    self.owners.unowned(&r.storage_key());
                }
            }
        }
        Ok(())
    }
}

/// The checker's own walk over the listings and the index.
pub(super) async fn walk(ctx: &Ctx) -> Result<FileWalk, ServiceError> {
    let mut walk = FileWalk::open_walk(ctx).await?;
    for loc in [Location::Unused, Location::Banned, Location::Frozen] {
        let mut merge = Merge::new(ctx, loc, PAGE, Judge::Quick);
        loop {
            let step = merge.next_merged().await?;
            walk.keys_listed(std::mem::take(&mut merge.stock.listed));
            let Some(step) = step else { break };
            walk.merged(loc, &step);
        }
    }
    let mut stock = Stock::new(ctx, "assigned/", PAGE, Judge::Quick);
    while let Some(s) = stock.next_key().await? {
        walk.assigned_key(&s);
    }
    walk.keys_listed(stock.listed);
    Ok(walk)
}
