//! The event log and outbox: one item per event, written in the same
//! transaction as the change that caused it. Items sit under
//! `EVENTS#{day}` sorted by id (a ULID minted at the event's time, so ids
//! sort by time and name their day); an undispatched one is also in the
//! `OUTBOX` index until the dispatcher hands it on. Kept 35 days.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::items::{from_item, to_item};
use super::super::{Ctx, ServiceError};
use super::Pages;
use crate::domain::Timestamp;
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};

const DAY_MILLIS: i64 = 86_400_000;
const KEEP_DAYS: i64 = 35;
const OUTBOX: &str = "OUTBOX";

/// One event as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: Timestamp,
    pub data: Value,
    /// The version of this type's `data` shape.
    pub v: u32,
}

/// A new event id at `now`: sorts by time, unique by its random part.
pub fn new_id(now: Timestamp) -> String {
    ulid::Ulid::from_parts(now.millis().max(0) as u64, rand::random()).to_string()
}

fn day_pk(day: i64) -> String {
    format!("EVENTS#{day:06}")
}

/// The key of event `id`, if it is one of ours.
pub fn key(id: &str) -> Option<Key> {
    let u = ulid::Ulid::from_string(id).ok()?;
    let day = u.timestamp_ms() as i64 / DAY_MILLIS;
    Some(Key::new(day_pk(day), id))
}

/// The event, once, in the outbox.
pub fn put(e: &EventItem) -> Result<Write, ServiceError> {
    let key = key(&e.id).ok_or_else(|| ServiceError::internal(anyhow::anyhow!("event id {} is not a ULID", e.id)))?;
    let ttl = e.at.plus_days(KEEP_DAYS).secs();
    let item = to_item(&key, e, Some((OUTBOX.into(), e.id.clone())), Some(ttl))?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

/// Out of the outbox: handed on.
pub fn dispatched(id: &str) -> Option<Write> {
    let changes = vec![Change::Remove(GSI1PK.into()), Change::Remove(GSI1SK.into())];
    Some(Write::Update { key: key(id)?, changes, cond: Some(Cond::Exists) })
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<EventItem>, ServiceError> {
    let Some(key) = key(id) else { return Ok(None) };
    match ctx.records.get(&key).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Events not yet handed on, oldest first.
pub fn pending(ctx: &Ctx, page: usize) -> Pages<'_, EventItem> {
    Pages::new(ctx, Query::new(Index::Gsi1, OUTBOX).limit(page))
}

/// One day's events from `after` (an id) on, oldest first, at most `limit`;
/// and whether the day has more.
pub async fn day(
    ctx: &Ctx,
    day: i64,
    after: Option<&str>,
    limit: usize,
    newest_first: bool,
) -> Result<(Vec<EventItem>, bool), ServiceError> {
    let range = match (after, newest_first) {
        (Some(a), false) => SkRange::Between(format!("{a}\u{1}"), "~".into()),
        (Some(a), true) => SkRange::Between("0".into(), a.to_string()),
        (None, _) => SkRange::All,
    };
    let mut q = Query::new(Index::Table, day_pk(day)).sk(range).limit(limit);
    if newest_first {
        q = q.descending();
    }
    let page = ctx.records.query(q).await?;
    let more = page.next.is_some();
    let mut items: Vec<EventItem> = page.items.into_iter().map(from_item).collect::<Result<_, _>>()?;
    if newest_first {
        // The range's end is inclusive: drop the cursor's own event.
        items.retain(|e| Some(e.id.as_str()) != after);
    }
    Ok((items, more))
}

/// The day an instant falls on (partition number).
pub fn day_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(DAY_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_and_its_id_names_its_day() {
        let at = Timestamp::from_secs(1_800_000_000);
        let e = EventItem { id: new_id(at), kind: "order.paid".into(), at, data: serde_json::json!({"a": 1}), v: 1 };
        let Write::Put { item, cond } = put(&e).unwrap() else { panic!("a put") };
        assert_eq!(cond, Some(Cond::NotExists));
        assert_eq!(Key::of(&item), key(&e.id));
        assert_eq!(item["pk"], serde_json::json!(day_pk(day_of(at))));
        assert_eq!(item["gsi1pk"], "OUTBOX");
        assert_eq!(from_item::<EventItem>(item).unwrap(), e);
        assert!(key("not-an-id").is_none());
        let later = new_id(at.plus_millis(1));
        assert!(later > e.id, "ids sort by time");
    }
}
