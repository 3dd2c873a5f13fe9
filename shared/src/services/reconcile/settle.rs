//! One file whose record and storage disagree: find every copy, then make
//! the record follow storage (or mark it lost) and drop extra copies.

use super::super::events::{self, Event};
use super::super::store::Guard;
use super::super::store::files::{self, FileRecord, LostFile};
use super::super::store::orders;
use super::super::store::subscriptions as subs;
use super::super::tx::Tx;
use super::super::{Ctx, ServiceError};
use super::{Run, intents, one};
use crate::domain::{LedgerKind, Location, StockCounts, SubscriptionId};
use crate::ports::FileError;

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
    let Some(rec) = files::get(ctx, name).await? else { return Ok(Settled::NoRecord) };
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
    // That intent may have finished between our heads and that check, its
    // move landing at the record's place: the end of a claim or of an
    // adjustment does not touch the record, so our conditional write would
    // not notice, and the record would follow a stale look (a sold file
    // back to unused/, to be sold again). Look at the record's place again.
    if !matches!(decision, Decision::DropCopies(_)) && ctx.files.head(&home.key(name)).await?.is_some() {
        run.report.in_flight += 1;
        return Ok(Settled::Done { here: seen == Some(&home) });
    }
    match decision {
        Decision::Keep => Ok(Settled::Done { here: seen == Some(&home) }),
        Decision::DropCopies(extra) => {
            drop_copies(run, name, &extra).await?;
            Ok(Settled::Done { here: seen == Some(&home) })
        }
        // A buyer holds it: it goes back to them, never up for sale.
        Decision::Follow { to, .. } if to.location == Location::Unused && held(ctx, &rec).await? => {
            give_back(run, &rec, &to).await?;
            Ok(Settled::Done { here: false })
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

/// Whether a live subscription of the record's owner lists the file. The
/// record's order names it: the subscription it created (a new plan, or a
/// renewal after the old one ended), or the one an add-on was for.
async fn held(ctx: &Ctx, rec: &FileRecord) -> Result<bool, ServiceError> {
    let (Location::Assigned, Some(user), Some(order_id)) = (rec.location, &rec.user_id, &rec.order_id) else {
        return Ok(false);
    };
    let Some(order) = orders::get(ctx, order_id).await? else { return Ok(false) };
    let own: String = SubscriptionId::for_order(order_id).into();
    for sub_id in std::iter::once(own).chain(order.for_subscription) {
        if let Some(sub) = subs::get(ctx, &sub_id).await?
            && sub.ended.is_none()
            && sub.user_id == *user
            && sub.files.contains(&rec.name)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The record says a buyer has the file, a live subscription of theirs lists
/// it, and its copy is in unused/ with no intent owning it: a late mover (a
/// run whose work another run booked first, such as a stalled return of an
/// ended subscription whose file the same buyer was sold again) took it out
/// of their prefix and has not put it back yet (`revoke::put_back_late`,
/// `fulfil/strays.rs`), or someone moved it by hand. Following it would put
/// a file a buyer holds up for sale (sold twice). It goes back to the buyer
/// instead; the late mover's own put-back then finds it there.
async fn give_back(run: &mut Run<'_>, rec: &FileRecord, from: &Place) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let home = rec.storage_key();
    match ctx.files.move_file(&from.key(&rec.name), &home).await {
        Ok(()) => {}
        // Moved on meanwhile (the late mover put it back): the next run looks.
        Err(FileError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    // Storage moved during the pass: the counters are not compared.
    run.storage_moved = true;
    run.report.repaired += 1;
    tracing::warn!(file = %rec.name, from = %from.key(&rec.name), to = %home, "a file a live subscription lists went back to its buyer");
    // The subscription may have ended since we looked, and its return booked
    // the file elsewhere: then ours was a late move too, undone here.
    if let Some(now) = files::get(ctx, &rec.name).await?
        && now.storage_key() != home
        && ctx.files.head(&home).await?.is_some()
    {
        ctx.files.move_file(&home, &now.storage_key()).await?;
        tracing::warn!(file = %rec.name, to = %now.storage_key(), "a late move put back");
    }
    Ok(())
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

fn moved(from: Location, to: Location) -> StockCounts {
    super::super::stock::add(one(from, -1), one(to, 1))
}

/// Record follows storage. False when someone changed the record first.
async fn follow(run: &mut Run<'_>, rec: &FileRecord, to: &Place) -> Result<bool, ServiceError> {
    let now = run.ctx.clock.now();
    let mut tx = Tx::new();
    tx.push((), files::follow(rec, to.location, to.user.as_deref(), now)?.when(files::untouched(rec)?));
    let from = Place::of(rec);
    let reason = format!("record said {}, file is at {}", from.key(&rec.name), to.key(&rec.name));
    tx.stock(run.entry(LedgerKind::Reconcile, &rec.name, moved(rec.location, to.location), reason.clone()));
    let ghost = rec.location == Location::Assigned;
    if ghost {
        let event = Event::StockGhost {
            file: rec.name.clone(),
            user_id: rec.user_id.clone(),
            order_id: rec.order_id.clone(),
            now_at: to.key(&rec.name),
        };
        tx.push((), events::record(run.ctx, &event)?);
    }
    if !run.commit(tx).await?.is_done() {
        return Ok(false);
    }
    run.report.repaired += 1;
    run.report.ghosts += u64::from(ghost);
    run.stock_returned |= to.location == Location::Unused;
    tracing::warn!(file = %rec.name, %reason, "record follows storage");
    Ok(true)
}

/// The file is nowhere: its record goes (a tombstone stays), the counters
/// drop it, staff are alerted.
async fn lost(run: &mut Run<'_>, rec: &FileRecord) -> Result<(), ServiceError> {
    let now = run.ctx.clock.now();
    let tomb = LostFile {
        name: rec.name.clone(),
        location: rec.location,
        user_id: rec.user_id.clone(),
        order_id: rec.order_id.clone(),
        lost_at: now,
        actor: run.actor.to_string(),
    };
    let mut tx = Tx::new();
    tx.push((), files::delete(&rec.name).when(files::untouched(rec)?)).push((), files::put_lost(&tomb)?);
    let reason = format!("file lost: record said {}, no copy anywhere", Place::of(rec).key(&rec.name));
    tx.stock(run.entry(LedgerKind::Reconcile, &rec.name, one(rec.location, -1), reason));
    let event = Event::StockLost {
        file: rec.name.clone(),
        location: rec.location,
        user_id: rec.user_id.clone(),
        order_id: rec.order_id.clone(),
    };
    tx.push((), events::record(run.ctx, &event)?);
    if !run.commit(tx).await?.is_done() {
        return Ok(());
    }
    run.report.repaired += 1;
    run.report.lost += 1;
    run.report.ghosts += u64::from(rec.location == Location::Assigned);
    tracing::error!(file = %rec.name, location = %rec.location, user_id = ?rec.user_id, "stock file lost");
    Ok(())
}
