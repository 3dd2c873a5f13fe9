//! Subscriptions (`SUB#{id}/SUB`), in the `SUBS` index by valid_until
//! while live (an ended one leaves it). Every change of files or dates
//! bumps `rev` and is guarded by it.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new, read};
use super::{sort_at, up_to};
use crate::domain::{EndReason, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};
use crate::services::items::{to_item, value};
use crate::services::{Ctx, ServiceError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub subscription_id: String,
    pub order_id: String,
    pub user_id: String,
    pub email: String,
    pub product_id: String,
    pub files: Vec<String>,
    pub interval_seconds: u32,
    pub valid_until: Timestamp,
    pub created_at: Timestamp,
    /// Set once, when it ends (its files then go back). Absent, not null,
    /// until then: writes guard on its absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<EndReason>,
    /// The expiry job has seen it enter grace (and told the buyer).
    #[serde(default)]
    pub grace_noted: bool,
    /// Bumped by every change of files or dates (optimistic lock).
    #[serde(default)]
    pub rev: u64,
    /// Files staff banned while no replacement was in stock: they stay in use
    /// and go to banned/ when they come back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flagged: Vec<String>,
    /// Hours before `valid_until` of the last reminder sent for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded: Option<u32>,
    /// Files banned while it was live, by staff or reported by its buyer,
    /// and what replaced each (none yet: waiting for stock, and `flagged`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replacements: Vec<Replacement>,
}

/// One banned file of a live subscription and its replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub id: String,
    pub file: String,
    /// The fresh file; none while no stock was there to give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_file: Option<String>,
    pub reported_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_at: Option<Timestamp>,
    /// Its buyer reported it (these count to the plan's `max_replacements`);
    /// otherwise staff banned it.
    pub by_buyer: bool,
}

impl SubscriptionRecord {
    /// The replacement of `file`, if it was banned while this was live.
    pub fn replacement_of(&self, file: &str) -> Option<&Replacement> {
        self.replacements.iter().find(|r| r.file == file)
    }

    /// The file that stands in `file`'s place now: the last of its chain of
    /// replacements, or `file` itself (never replaced, or still waiting).
    pub fn now_in_place_of(&self, file: &str) -> String {
        let mut now = file;
        // Each step follows another replacement; the bound ends a cycle.
        for _ in 0..self.replacements.len() {
            match self.replacement_of(now).and_then(|r| r.new_file.as_deref()) {
                Some(next) => now = next,
                None => break,
            }
        }
        now.to_string()
    }

    /// Files its buyer reported (replaced or waiting).
    pub fn buyer_reports(&self) -> u32 {
        u32::try_from(self.replacements.iter().filter(|r| r.by_buyer).count()).unwrap_or(u32::MAX)
    }
}

pub const INDEX: &str = "SUBS";
const ENDED: &str = "ended";
const REV: &str = "rev";
const FILES: &str = "files";
const FLAGGED: &str = "flagged";
const GRACE_NOTED: &str = "grace_noted";
const VALID_UNTIL: &str = "valid_until";
const REMINDED: &str = "reminded";
const REPLACEMENTS: &str = "replacements";

/// Usage periods, seat snapshots and intents share this partition.
pub(super) fn pk(id: &str) -> String {
    format!("SUB#{id}")
}

pub fn key(id: &str) -> Key {
    Key::new(pk(id), "SUB")
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<SubscriptionRecord>, ServiceError> {
    read(ctx, &key(id)).await
}

/// Live subscriptions (the index may lag: an ended one can still show).
pub fn live(ctx: &Ctx) -> Pages<'_, SubscriptionRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, INDEX).limit(100))
}

/// Live subscriptions valid until `now` or before.
pub fn due(ctx: &Ctx, now: Timestamp) -> Pages<'_, SubscriptionRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, INDEX).sk(up_to(sort_at(now, "~"))).limit(100))
}

/// A new subscription, in the index by its valid_until.
/// Live subscriptions whose `valid_until` is in `[from, to]`, soonest first.
pub fn valid_until_between(ctx: &Ctx, from: Timestamp, to: Timestamp) -> Pages<'_, SubscriptionRecord> {
    let range = SkRange::Between(sort_at(from, ""), sort_at(to, "~"));
    Pages::new(ctx, Query::new(Index::Gsi1, INDEX).sk(range).limit(100))
}

pub fn put(sub: &SubscriptionRecord) -> Result<Write, ServiceError> {
    let gsi = (INDEX.to_string(), sort_at(sub.valid_until, &sub.subscription_id));
    Ok(put_new(to_item(&key(&sub.subscription_id), sub, Some(gsi), None)?))
}

/// Not ended, and unchanged since `rev` was read.
pub fn guard_rev(rev: u64) -> Cond {
    Cond::And(vec![Cond::Absent(ENDED.into()), Cond::eq(REV, rev)])
}

fn revised(sub: &SubscriptionRecord, mut changes: Vec<Change>) -> Write {
    changes.push(Change::Set(REV.into(), (sub.rev + 1).into()));
    Write::Update { key: key(&sub.subscription_id), changes, cond: Some(guard_rev(sub.rev)) }
}

/// Its files are now `files`, if unchanged since read.
pub fn set_files(sub: &SubscriptionRecord, files: &[impl Serialize]) -> Result<Write, ServiceError> {
    Ok(revised(sub, vec![Change::Set(FILES.into(), value(&files)?)]))
}

/// Its files, flagged files and replacements, if unchanged since read.
pub fn replace_files(
    sub: &SubscriptionRecord,
    files: &[String],
    flagged: &[String],
    replacements: &[Replacement],
) -> Result<Write, ServiceError> {
    let changes = vec![
        Change::Set(FILES.into(), value(&files)?),
        Change::Set(FLAGGED.into(), value(&flagged)?),
        Change::Set(REPLACEMENTS.into(), value(&replacements)?),
    ];
    Ok(revised(sub, changes))
}

/// Its flagged files and replacements, if unchanged since read.
pub fn set_flagged(
    sub: &SubscriptionRecord,
    flagged: &[String],
    replacements: &[Replacement],
) -> Result<Write, ServiceError> {
    let changes =
        vec![Change::Set(FLAGGED.into(), value(&flagged)?), Change::Set(REPLACEMENTS.into(), value(&replacements)?)];
    Ok(revised(sub, changes))
}

/// Valid until `until` (in the index there), if unchanged since read. A
/// later end starts grace and the reminders anew; an earlier one (a
/// refunded renewal) keeps what was sent.
pub fn set_valid_until(sub: &SubscriptionRecord, until: Timestamp) -> Result<Write, ServiceError> {
    let mut changes = vec![
        Change::Set(VALID_UNTIL.into(), value(&until)?),
        Change::Set(GSI1SK.into(), sort_at(until, &sub.subscription_id).into()),
    ];
    if until > sub.valid_until {
        changes.push(Change::Set(GRACE_NOTED.into(), false.into()));
        changes.push(Change::Remove(REMINDED.into()));
    }
    Ok(revised(sub, changes))
}

/// The reminder `hours` before its end is sent, once for this end: refused
/// when it or a later one was sent, or the end moved since read.
pub fn remind(sub: &SubscriptionRecord, hours: u32) -> Write {
    let not_yet = Cond::Or(vec![Cond::Absent(REMINDED.into()), Cond::Ge(REMINDED.into(), i64::from(hours) + 1)]);
    Write::Update {
        key: key(&sub.subscription_id),
        changes: vec![Change::Set(REMINDED.into(), hours.into())],
        cond: Some(Cond::And(vec![guard_rev(sub.rev), not_yet])),
    }
}

/// Ends it (it leaves the index), if unchanged since read.
pub fn end(sub: &SubscriptionRecord, reason: EndReason) -> Result<Write, ServiceError> {
    let changes =
        vec![Change::Set(ENDED.into(), value(&reason)?), Change::Remove(GSI1PK.into()), Change::Remove(GSI1SK.into())];
    Ok(Write::Update { key: key(&sub.subscription_id), changes, cond: Some(guard_rev(sub.rev)) })
}

/// Grace noted once, on a live subscription.
pub fn note_grace(id: &str) -> Write {
    let once = Cond::And(vec![Cond::Exists, Cond::Absent(ENDED.into()), Cond::Ne(GRACE_NOTED.into(), true.into())]);
    Write::Update { key: key(id), changes: vec![Change::Set(GRACE_NOTED.into(), true.into())], cond: Some(once) }
}

/// Checks it exists and has not ended.
pub fn check_live(id: &str) -> Write {
    Write::Check { key: key(id), cond: Cond::And(vec![Cond::Exists, Cond::Absent(ENDED.into())]) }
}

/// Checks it has not ended.
pub fn check_not_ended(id: &str) -> Write {
    Write::Check { key: key(id), cond: Cond::Absent(ENDED.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replaced(file: &str, new_file: Option<&str>) -> Replacement {
        let at = Timestamp::from_secs(1_700_000_000);
        let new_file = new_file.map(str::to_string);
        Replacement {
            id: file.into(),
            file: file.into(),
            new_file,
            reported_at: at,
            replaced_at: None,
            by_buyer: false,
        }
    }

    #[test]
    fn a_file_is_followed_through_each_of_its_replacements() {
        let v = serde_json::json!({
            "subscription_id": "S1", "order_id": "1", "user_id": "u", "email": "a@b.c", "product_id": "bronze",
            "files": ["c", "w"], "interval_seconds": 3600, "valid_until": 1_700_000_000_000_i64,
            "created_at": 1_700_000_000_000_i64,
        });
        let mut sub: SubscriptionRecord = serde_json::from_value(v).unwrap();
        sub.replacements = vec![replaced("b", Some("c")), replaced("a", Some("b")), replaced("w", None)];
        assert_eq!(sub.now_in_place_of("a"), "c", "a -> b -> c");
        assert_eq!(sub.now_in_place_of("w"), "w", "still waiting: itself");
        assert_eq!(sub.now_in_place_of("x"), "x", "never replaced");
        // A cycle (no such history, but no hang either).
        sub.replacements.push(replaced("c", Some("a")));
        let _ = sub.now_in_place_of("a");
    }
}
