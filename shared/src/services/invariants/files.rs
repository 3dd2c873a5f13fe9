//! Conservation and one owner: every listed key against the file records
//! and the live subscriptions, from paginated listings and index queries.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::super::items::from_item;
use super::super::model::{FileRecord, SubscriptionRecord};
use super::super::{Ctx, ServiceError, keys};
use super::{Invariant, InvariantReport, PAGE, each};
use crate::domain::{FileName, Location, StockCounts};
use crate::ports::{Index, Query};

const LOCATIONS: [Location; 4] = [Location::Unused, Location::Assigned, Location::Banned, Location::Frozen];

/// Files per location as the records and as the listings see them (files
/// in flight counted where their record says).
pub(super) struct Seen {
    pub records: StockCounts,
    pub listed: StockCounts,
}

/// Files named by unfinished intents (assign, revoke, adjust).
pub(super) async fn in_flight(ctx: &Ctx, report: &mut InvariantReport) -> Result<HashSet<String>, ServiceError> {
    let mut files = HashSet::new();
    each(ctx, Query::new(Index::Gsi1, keys::INTENTS_INDEX).limit(100), |item| {
        if item.get("done").and_then(Value::as_bool) == Some(true) {
            return Ok(());
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
        Ok(())
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

/// Every stock key: file name -> (key, location). Keys that are not a
/// stock file are not stock (reconcile leaves them alone too).
async fn listings(
    ctx: &Ctx,
    report: &mut InvariantReport,
) -> Result<HashMap<String, Vec<(String, Location)>>, ServiceError> {
    let mut out: HashMap<String, Vec<(String, Location)>> = HashMap::new();
    for loc in LOCATIONS {
        let prefix = format!("{}/", loc.as_str());
        let mut after: Option<String> = None;
        loop {
            let page = ctx.files.list(&prefix, after.as_deref(), PAGE).await?;
            report.files_listed += page.keys.len() as u64;
            for key in page.keys {
                let rest = key.strip_prefix(&prefix).unwrap_or(&key);
                let name = match loc {
                    Location::Assigned => rest.split_once('/').map(|(_, n)| n).unwrap_or(""),
                    _ => rest,
                };
                if let Ok(n) = FileName::parse(name) {
                    out.entry(n.as_str().to_string()).or_default().push((key.clone(), loc));
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    Ok(out)
}

async fn records(ctx: &Ctx) -> Result<HashMap<String, FileRecord>, ServiceError> {
    let mut out = HashMap::new();
    for loc in LOCATIONS {
        let q = Query::new(Index::Gsi1, keys::files_at(loc.as_str())).limit(PAGE);
        each(ctx, q, |item| {
            let rec: FileRecord = from_item(item)?;
            out.insert(rec.name.clone(), rec);
            Ok(())
        })
        .await?;
    }
    Ok(out)
}

async fn live_subscriptions(ctx: &Ctx) -> Result<Vec<SubscriptionRecord>, ServiceError> {
    let mut out = Vec::new();
    each(ctx, Query::new(Index::Gsi1, keys::SUBS_INDEX).limit(100), |item| {
        let sub: SubscriptionRecord = from_item(item)?;
        if sub.ended.is_none() {
            out.push(sub);
        }
        Ok(())
    })
    .await?;
    Ok(out)
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

pub(super) async fn check(
    ctx: &Ctx,
    flight: &HashSet<String>,
    report: &mut InvariantReport,
) -> Result<Seen, ServiceError> {
    let listed = listings(ctx, report).await?;
    let mut recs = records(ctx).await?;
    report.file_records = recs.len() as u64;
    let mut seen = Seen { records: StockCounts::default(), listed: StockCounts::default() };
    let names: BTreeSet<String> = listed.keys().chain(recs.keys()).cloned().collect();
    let none = Vec::new();
    for name in &names {
        let keys = listed.get(name).unwrap_or(&none);
        if let Some(r) = recs.get(name) {
            bump(&mut seen.records, r.location);
        }
        if flight.contains(name) {
            if let Some(r) = recs.get(name) {
                bump(&mut seen.listed, r.location);
            }
            continue;
        }
        keys.iter().for_each(|(_, loc)| bump(&mut seen.listed, *loc));
        if judge(recs.get(name), keys).is_none() {
            continue;
        }
        // The index may lag the table (DynamoDB): judge a strongly consistent read.
        let fresh: Option<FileRecord> = ctx.records.get(&keys::file(name)).await?.map(from_item).transpose()?;
        if let Some(why) = judge(fresh.as_ref(), keys) {
            report.add(Invariant::Conservation, why);
        }
        match fresh {
            Some(r) => recs.insert(name.clone(), r),
            None => recs.remove(name),
        };
    }
    owners(ctx, &recs, &listed, flight, report).await?;
    Ok(seen)
}

/// No file in two live subscriptions; each is under its user's prefix; each
/// assigned record belongs to a live subscription of that user.
async fn owners(
    ctx: &Ctx,
    recs: &HashMap<String, FileRecord>,
    listed: &HashMap<String, Vec<(String, Location)>>,
    flight: &HashSet<String>,
    report: &mut InvariantReport,
) -> Result<(), ServiceError> {
    let mut owner: HashMap<&str, &SubscriptionRecord> = HashMap::new();
    let subs = live_subscriptions(ctx).await?;
    for sub in &subs {
        for f in &sub.files {
            if let Some(other) = owner.insert(f, sub) {
                let (a, b) = (&other.subscription_id, &sub.subscription_id);
                report.add(Invariant::OneOwner, format!("{f} is in subscriptions {a} and {b}"));
            }
            if flight.contains(f) {
                continue;
            }
            let want = format!("assigned/{}/{f}", sub.user_id);
            let here = listed.get(f.as_str()).is_some_and(|ks| ks.iter().any(|(k, _)| *k == want));
            let rec_ok = recs.get(f.as_str()).is_some_and(|r| r.storage_key() == want);
            if !here || !rec_ok {
                let id = &sub.subscription_id;
                report.add(Invariant::OneOwner, format!("subscription {id} lists {f}, which is not at {want}"));
            }
        }
    }
    for r in recs.values().filter(|r| r.location == Location::Assigned && !flight.contains(&r.name)) {
        if owner.get(r.name.as_str()).is_none_or(|s| Some(&s.user_id) != r.user_id.as_ref()) {
            let key = r.storage_key();
            report.add(Invariant::OneOwner, format!("{key} belongs to no live subscription of that user"));
        }
    }
    Ok(())
}
