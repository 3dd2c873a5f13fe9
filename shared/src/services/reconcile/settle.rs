//! One file whose record and storage disagree: find every copy, then make
//! the record follow storage (or mark it lost) and drop extra copies.

use serde::Serialize;

use super::super::events::{self, Event};
use super::super::items::{from_item, json, to_item};
use super::super::model::FileRecord;
use super::super::{ServiceError, keys};
use super::{Applied, Run, intents, one};
use crate::domain::{LedgerKind, Location, StockCounts, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Key, Write};

/// Where one copy of a file sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Place {
    pub location: Location,
    /// The owner, for assigned/ only.
    pub user: Option<String>,
}

impl Place {
    pub fn at(location: Location) -> Place {
        Place { location, user: None }
    }
    pub fn assigned(user: &str) -> Place {
        Place { location: Location::Assigned, user: Some(user.to_string()) }
    }
    pub fn of(rec: &FileRecord) -> Place {
        match rec.location {
            Location::Assigned => Place { location: Location::Assigned, user: rec.user_id.clone() },
            loc => Place::at(loc),
        }
    }
    pub fn key(&self, name: &str) -> String {
        match &self.user {
            Some(u) => format!("assigned/{u}/{name}"),
            None => format!("{}/{name}", self.location.as_str()),
        }
    }
    /// Which copy to keep when the record names none of them: a buyer's
    /// copy first, then the most restrictive place.
    fn rank(&self) -> u8 {
        match self.location {
            Location::Assigned => 0,
            Location::Banned => 1,
            Location::Frozen => 2,
            Location::Unused => 3,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decision {
    Keep,
    /// The record's copy is there; delete these others.
    DropCopies(Vec<Place>),
    /// The record moves to `to`; the other copies go.
    Follow {
        to: Place,
        drop: Vec<Place>,
    },
    /// No copy anywhere.
    Lost,
}

pub(super) fn decide(rec: &FileRecord, present: &[Place]) -> Decision {
    let home = Place::of(rec);
    if present.contains(&home) {
        let extra: Vec<Place> = present.iter().filter(|p| **p != home).cloned().collect();
        return if extra.is_empty() { Decision::Keep } else { Decision::DropCopies(extra) };
    }
    let Some(to) = present.iter().min_by_key(|p| p.rank()).cloned() else { return Decision::Lost };
    let drop = present.iter().filter(|p| **p != to).cloned().collect();
    Decision::Follow { to, drop }
}

pub(super) enum Settled {
    NoRecord,
    /// `here`: the record now points at the copy the caller saw.
    Done {
        here: bool,
    },
}

/// Settles `name`, seen by the caller at `seen` (or missing where its record
/// said). Reads the record strongly and heads every place it could be.
pub(super) async fn settle(run: &mut Run<'_>, name: &str, seen: Option<&Place>) -> Result<Settled, ServiceError> {
    let ctx = run.ctx;
    let Some(item) = ctx.records.get(&keys::file(name)).await? else { return Ok(Settled::NoRecord) };
    let rec: FileRecord = from_item(item)?;
    let mut candidates = vec![Place::at(Location::Unused), Place::at(Location::Banned), Place::at(Location::Frozen)];
    for p in [Some(Place::of(&rec)), seen.cloned()].into_iter().flatten() {
        if p.location == Location::Assigned && p.user.is_some() && !candidates.contains(&p) {
            candidates.push(p);
        }
    }
    let mut present = Vec::new();
    for p in candidates {
        if ctx.files.head(&p.key(name)).await?.is_some() {
            present.push(p);
        }
    }
    let decision = decide(&rec, &present);
    let home = Place::of(&rec);
    if decision == Decision::Keep {
        return Ok(Settled::Done { here: seen == Some(&home) });
    }
    run.report.drift += 1;
    // A move in flight looks like drift: its intent finishes it.
    if intents::owned(ctx, &rec).await? {
        run.report.in_flight += 1;
        tracing::info!(file = name, ?decision, "left to the intent that owns it");
        return Ok(Settled::Done { here: false });
    }
    match decision {
        Decision::Keep => Ok(Settled::Done { here: seen == Some(&home) }),
        Decision::DropCopies(extra) => {
            drop_copies(run, name, &extra).await?;
            Ok(Settled::Done { here: seen == Some(&home) })
        }
        Decision::Follow { to, drop } => {
            if !follow(run, &rec, &to).await? {
                return Ok(Settled::Done { here: false });
            }
            drop_copies(run, name, &drop).await?;
            Ok(Settled::Done { here: seen == Some(&to) })
        }
        Decision::Lost => {
            lost(run, &rec).await?;
            Ok(Settled::Done { here: false })
        }
    }
}

/// Called right after the intent check: the port has no conditional delete,
/// so that check is what keeps a move starting now from losing its copy.
async fn drop_copies(run: &mut Run<'_>, name: &str, extra: &[Place]) -> Result<(), ServiceError> {
    for p in extra {
        let key = p.key(name);
        run.ctx.files.delete(&key).await?;
        run.report.duplicates += 1;
        tracing::warn!(%key, "deleted a duplicate copy");
    }
    Ok(())
}

/// The record as it was read: a change by anyone since makes ours fail.
pub(super) fn unchanged(rec: &FileRecord) -> Cond {
    let mut all =
        vec![Cond::Eq("location".into(), json(&rec.location)), Cond::Eq("updated_at".into(), json(&rec.updated_at))];
    if let Some(u) = &rec.user_id {
        all.push(Cond::eq("user_id", u.clone()));
    }
    // The same buyer may get the file again within one clock tick.
    if let Some(o) = &rec.order_id {
        all.push(Cond::eq("order_id", o.clone()));
    }
    Cond::And(all)
}

fn moved(from: Location, to: Location) -> StockCounts {
    super::super::stock::add(one(from, -1), one(to, 1))
}

/// Record follows storage. False when someone changed the record first.
async fn follow(run: &mut Run<'_>, rec: &FileRecord, to: &Place) -> Result<bool, ServiceError> {
    let now = run.ctx.clock.now();
    let mut changes = vec![
        Change::Set("location".into(), json(&to.location)),
        Change::Set("updated_at".into(), json(&now)),
        Change::Set(GSI1PK.into(), keys::files_at(to.location.as_str()).into()),
        Change::Set(GSI1SK.into(), rec.name.clone().into()),
    ];
    match &to.user {
        Some(u) => changes.push(Change::Set("user_id".into(), u.clone().into())),
        None => changes.push(Change::Remove("user_id".into())),
    }
    // The order stays only with the same owner.
    if to.user.is_none() || to.user != rec.user_id {
        changes.push(Change::Remove("order_id".into()));
    }
    let writes = vec![Write::Update { key: keys::file(&rec.name), changes, cond: Some(unchanged(rec)) }];
    let from = Place::of(rec);
    let reason = format!("record said {}, file is at {}", from.key(&rec.name), to.key(&rec.name));
    let entry = run.entry(LedgerKind::Reconcile, &rec.name, moved(rec.location, to.location), reason.clone());
    if let Applied::Refused(_) = run.commit(writes, vec![entry]).await? {
        return Ok(false);
    }
    run.report.repaired += 1;
    run.stock_returned |= to.location == Location::Unused;
    tracing::warn!(file = %rec.name, %reason, "record follows storage");
    if rec.location == Location::Assigned {
        run.report.ghosts += 1;
        let event = Event::StockGhost {
            file: rec.name.clone(),
            user_id: rec.user_id.clone(),
            order_id: rec.order_id.clone(),
            now_at: to.key(&rec.name),
        };
        events::notify(run.ctx, event).await;
    }
    Ok(true)
}

/// What is left of a record whose file vanished (support reads it).
#[derive(Serialize)]
struct LostFile<'a> {
    name: &'a str,
    location: Location,
    user_id: &'a Option<String>,
    order_id: &'a Option<String>,
    lost_at: Timestamp,
    actor: &'a str,
}

pub(super) fn lost_key(name: &str) -> Key {
    Key::new(keys::file(name).pk, "LOST")
}

/// The file is nowhere: its record goes (a tombstone stays), the counters
/// drop it, staff are alerted.
async fn lost(run: &mut Run<'_>, rec: &FileRecord) -> Result<(), ServiceError> {
    let now = run.ctx.clock.now();
    let tomb = LostFile {
        name: &rec.name,
        location: rec.location,
        user_id: &rec.user_id,
        order_id: &rec.order_id,
        lost_at: now,
        actor: run.actor,
    };
    let writes = vec![
        Write::Delete { key: keys::file(&rec.name), cond: Some(unchanged(rec)) },
        Write::Put { item: to_item(&lost_key(&rec.name), &tomb, None, None)?, cond: None },
    ];
    let reason = format!("file lost: record said {}, no copy anywhere", Place::of(rec).key(&rec.name));
    let entry = run.entry(LedgerKind::Reconcile, &rec.name, one(rec.location, -1), reason);
    if let Applied::Refused(_) = run.commit(writes, vec![entry]).await? {
        return Ok(());
    }
    run.report.repaired += 1;
    run.report.lost += 1;
    run.report.ghosts += u64::from(rec.location == Location::Assigned);
    tracing::error!(file = %rec.name, location = %rec.location, user_id = ?rec.user_id, "stock file lost");
    let event = Event::StockLost {
        file: rec.name.clone(),
        location: rec.location,
        user_id: rec.user_id.clone(),
        order_id: rec.order_id.clone(),
    };
    events::notify(run.ctx, event).await;
    Ok(())
}
