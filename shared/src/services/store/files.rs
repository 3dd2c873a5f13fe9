//! Stock file records (`FILE#{name}/FILE`), in the `FILES#{location}` index
//! sorted by name, and what is left of a file written off (`WRITTEN_OFF`)
//! or lost (`LOST`) under the same partition.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Pages, put_new, read};
use crate::domain::{Location, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, Records, SkRange, Write};
use crate::services::items::{from_item, to_item, value};
use crate::services::{Ctx, ServiceError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub name: String,
    pub location: Location,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
    pub updated_at: Timestamp,
    /// Staff flagged it: when it comes back it goes to banned/, not unused/.
    #[serde(default)]
    pub ban_on_return: bool,
}

impl FileRecord {
    /// The storage key the record says the file is at.
    pub fn storage_key(&self) -> String {
        match (&self.location, &self.user_id) {
            (Location::Assigned, Some(u)) => format!("assigned/{u}/{}", self.name),
            (loc, _) => format!("{}/{}", loc.as_str(), self.name),
        }
    }
}

const LOCATION: &str = "location";
const USER: &str = "user_id";
const ORDER: &str = "order_id";
const UPDATED: &str = "updated_at";
const BAN_ON_RETURN: &str = "ban_on_return";

fn pk(name: &str) -> String {
    format!("FILE#{name}")
}

pub fn key(name: &str) -> Key {
    Key::new(pk(name), "FILE")
}

/// The index of files at `location` (`unused`, `assigned`, ...).
pub fn files_at(location: &str) -> String {
    format!("FILES#{location}")
}

pub fn written_off_key(name: &str) -> Key {
    Key::new(pk(name), "WRITTEN_OFF")
}

fn lost_key(name: &str) -> Key {
    Key::new(pk(name), "LOST")
}

pub async fn get(ctx: &Ctx, name: &str) -> Result<Option<FileRecord>, ServiceError> {
    read(ctx, &key(name)).await
}

/// As `get`, owning what it needs (for reads run side by side).
pub async fn get_owned(records: Arc<dyn Records>, name: String) -> Result<Option<FileRecord>, ServiceError> {
    Ok(records.get(&key(&name)).await?.map(from_item).transpose()?)
}

/// The records at `loc`, in name order (the index may lag: re-read before acting).
pub fn at(ctx: &Ctx, loc: Location, limit: usize) -> Pages<'_, FileRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, files_at(loc.as_str())).limit(limit))
}

/// As `at`, names from `first` to `last` only.
pub fn at_between<'a>(ctx: &'a Ctx, loc: Location, first: &str, last: &str, limit: usize) -> Pages<'a, FileRecord> {
    let q = Query::new(Index::Gsi1, files_at(loc.as_str())).sk(SkRange::Between(first.into(), last.into()));
    Pages::new(ctx, q.limit(limit))
}

/// A new file's record; refused if it has one after all.
pub fn put_new_file(rec: &FileRecord) -> Result<Write, ServiceError> {
    let gsi = (files_at(rec.location.as_str()), rec.name.clone());
    Ok(put_new(to_item(&key(&rec.name), rec, Some(gsi), None)?))
}

fn moved_to(name: &str, to: Location, now: Timestamp) -> Result<Vec<Change>, ServiceError> {
    Ok(vec![
        Change::Set(LOCATION.into(), value(&to)?),
        Change::Set(UPDATED.into(), value(&now)?),
        Change::Set(GSI1PK.into(), files_at(to.as_str()).into()),
        Change::Set(GSI1SK.into(), name.to_string().into()),
    ])
}

fn update(name: &str, changes: Vec<Change>) -> Write {
    Write::Update { key: key(name), changes, cond: None }
}

/// The record says the file is at `to` now (owner unchanged).
pub fn relocate(name: &str, to: Location, now: Timestamp) -> Result<Write, ServiceError> {
    Ok(update(name, moved_to(name, to, now)?))
}

/// Back from its owner to `to` (unused/, or banned/ when flagged).
pub fn unassign(name: &str, to: Location, now: Timestamp) -> Result<Write, ServiceError> {
    let mut changes = moved_to(name, to, now)?;
    changes.extend([Change::Remove(USER.into()), Change::Remove(ORDER.into())]);
    Ok(update(name, changes))
}

/// Given to `user` for `order`; refused unless it is in unused/.
pub fn assign(name: &str, user: &str, order: &str, now: Timestamp) -> Result<Write, ServiceError> {
    let mut changes = moved_to(name, Location::Assigned, now)?;
    changes.extend([Change::Set(USER.into(), user.into()), Change::Set(ORDER.into(), order.into())]);
    Ok(Write::Update { key: key(name), changes, cond: Some(is_at(Location::Unused)?) })
}

/// Taken from its owner into banned/; the flag has done its work.
pub fn ban(name: &str, now: Timestamp) -> Result<Write, ServiceError> {
    let mut changes = moved_to(name, Location::Banned, now)?;
    changes.extend([Change::Remove(USER.into()), Change::Remove(ORDER.into())]);
    changes.push(Change::Set(BAN_ON_RETURN.into(), false.into()));
    Ok(update(name, changes))
}

/// Goes to banned/ when it comes back.
pub fn flag(name: &str) -> Write {
    update(name, vec![Change::Set(BAN_ON_RETURN.into(), true.into())])
}

/// The record follows storage to `to` (owned by `user` under assigned/);
/// its order stays only with the same owner.
pub fn follow(rec: &FileRecord, to: Location, user: Option<&str>, now: Timestamp) -> Result<Write, ServiceError> {
    let mut changes = moved_to(&rec.name, to, now)?;
    changes.push(match user {
        Some(u) => Change::Set(USER.into(), u.into()),
        None => Change::Remove(USER.into()),
    });
    if user.is_none() || user != rec.user_id.as_deref() {
        changes.push(Change::Remove(ORDER.into()));
    }
    Ok(update(&rec.name, changes))
}

pub fn delete(name: &str) -> Write {
    Write::Delete { key: key(name), cond: None }
}

pub fn is_at(loc: Location) -> Result<Cond, ServiceError> {
    Ok(Cond::Eq(LOCATION.into(), value(&loc)?))
}

/// Held by `user`.
pub fn is_with(user: &str) -> Cond {
    Cond::eq(USER, user)
}

/// Where and when the record was as read: a move since makes it fail.
pub fn unchanged(rec: &FileRecord) -> Result<Cond, ServiceError> {
    Ok(Cond::And(vec![is_at(rec.location)?, Cond::Eq(UPDATED.into(), value(&rec.updated_at)?)]))
}

/// `unchanged`, and the same owner and order (the same buyer may get the
/// file again within one clock tick).
pub fn untouched(rec: &FileRecord) -> Result<Cond, ServiceError> {
    let Cond::And(mut all) = unchanged(rec)? else { unreachable!("unchanged is a conjunction") };
    if let Some(u) = &rec.user_id {
        all.push(Cond::eq(USER, u.clone()));
    }
    if let Some(o) = &rec.order_id {
        all.push(Cond::eq(ORDER, o.clone()));
    }
    Ok(Cond::And(all))
}

/// What is left of a written-off file's record.
#[derive(Debug, Serialize, Deserialize)]
pub struct WrittenOff {
    pub name: String,
    pub was: Location,
    pub at: Timestamp,
    pub reason: String,
    pub actor: String,
}

pub fn put_written_off(w: &WrittenOff) -> Result<Write, ServiceError> {
    Ok(Write::Put { item: to_item(&written_off_key(&w.name), w, None, None)?, cond: None })
}

/// What is left of a record whose file vanished (support reads it).
#[derive(Debug, Serialize, Deserialize)]
pub struct LostFile {
    pub name: String,
    pub location: Location,
    pub user_id: Option<String>,
    pub order_id: Option<String>,
    pub lost_at: Timestamp,
    pub actor: String,
}

pub fn put_lost(l: &LostFile) -> Result<Write, ServiceError> {
    Ok(Write::Put { item: to_item(&lost_key(&l.name), l, None, None)?, cond: None })
}

/// Whether reconcile once marked the file lost.
pub async fn was_lost(ctx: &Ctx, name: &str) -> Result<bool, ServiceError> {
    Ok(ctx.records.get(&lost_key(name)).await?.is_some())
}
