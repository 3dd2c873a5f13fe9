//! Sign-in links (`SIGNIN#{hash}` / `LINK`) and the request counters that
//! limit them (`RATE#signin#...#{window}` / `RATE`). A link is stored by
//! the SHA-256 of its token, never the token: a reader of the table cannot
//! sign in. Used once: `consume` is one conditional update.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::items::{from_item, to_item};
use super::super::{Ctx, ServiceError};
use crate::domain::Timestamp;
use crate::ports::records::TTL;
use crate::ports::{Change, Cond, Key, RecordError, Write};

/// Lapsed links and old counters stay this long for support, then go.
const KEEP_SECS: i64 = 86_400;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkRecord {
    /// Who the link signs in as: `customer` or `staff`.
    pub audience: String,
    pub email: String,
    pub created_at: Timestamp,
    /// Milliseconds; a plain number so a condition can compare it.
    pub expires_ms: i64,
    pub used: bool,
    #[serde(default)]
    pub used_at: Option<Timestamp>,
}

/// The stored name of a token: its SHA-256, hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn key(token_hash: &str) -> Key {
    Key::new(format!("SIGNIN#{token_hash}"), "LINK")
}

/// A new link, once (a second put of the same token fails its condition).
pub fn put_new(token_hash: &str, rec: &LinkRecord) -> Result<Write, ServiceError> {
    let ttl = Timestamp(rec.expires_ms).secs() + KEEP_SECS;
    let item = to_item(&key(token_hash), rec, None, Some(ttl))?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

/// Stores the link made for a mail once: a second dispatch of the same
/// event finds it there and keeps it as it was. A plain conditional put,
/// so the dispatcher's role needs nothing but PutItem for it.
pub async fn keep(ctx: &Ctx, token_hash: &str, rec: &LinkRecord) -> Result<(), ServiceError> {
    let Write::Put { item, cond } = put_new(token_hash, rec)? else { return Ok(()) };
    match ctx.records.put(item, cond).await {
        Ok(()) | Err(RecordError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Marks the link used, if it is unused, of `audience` and not lapsed at
/// `now`; the link as it was, or `None` when any of that fails. Two
/// concurrent calls: one gets the link, the other `None`.
pub async fn consume(
    ctx: &Ctx,
    token_hash: &str,
    audience: &str,
    now: Timestamp,
) -> Result<Option<LinkRecord>, ServiceError> {
    let cond = Cond::And(vec![
        Cond::eq("used", false),
        Cond::eq("audience", audience),
        Cond::Ge("expires_ms".into(), now.millis() + 1),
    ]);
    let changes = vec![Change::Set("used".into(), true.into()), Change::Set("used_at".into(), now.millis().into())];
    match ctx.records.update(&key(token_hash), changes, Some(cond)).await {
        Ok(item) => Ok(Some(from_item(item)?)),
        Err(RecordError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The counter of sign-in requests by `who` (`email#{user}` or `ip#{addr}`)
/// in the window starting at `window_start`.
pub fn counter(who: &str, window_start: Timestamp) -> Key {
    Key::new(format!("RATE#signin#{who}#{}", window_start.sort_key()), "RATE")
}

/// Counts one request on `key`; fails its condition at `max`. The counter
/// goes with its window (`expires`).
pub fn count(key: Key, max: u32, expires: Timestamp) -> Write {
    let below = Cond::Or(vec![Cond::Absent("n".into()), Cond::Le("n".into(), i64::from(max) - 1)]);
    let changes = vec![Change::Add("n".into(), 1), Change::Set(TTL.into(), (expires.secs() + KEEP_SECS).into())];
    Write::Update { key, changes, cond: Some(below) }
}

/// How many requests `key` counted so far.
pub async fn counted(ctx: &Ctx, key: &Key) -> Result<i64, ServiceError> {
    Ok(ctx.records.get(key).await?.and_then(|item| item.get("n").and_then(serde_json::Value::as_i64)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::stack::embedded_ctx;

    fn ctx() -> (tempfile::TempDir, Ctx) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = embedded_ctx(dir.path());
        (dir, ctx)
    }

    fn link(expires_ms: i64) -> LinkRecord {
        LinkRecord {
            audience: "customer".into(),
            email: "ann@example.com".into(),
            created_at: Timestamp(1),
            expires_ms,
            used: false,
            used_at: None,
        }
    }

    #[tokio::test]
    async fn a_link_is_consumed_once_and_not_after_it_lapses() {
        let (_dir, ctx) = ctx();
        let rec = link(10_000);
        crate::services::store::apply(&ctx, put_new("h1", &rec).unwrap()).await.unwrap();
        assert!(!crate::services::store::apply(&ctx, put_new("h1", &rec).unwrap()).await.unwrap());
        assert_eq!(consume(&ctx, "h1", "staff", Timestamp(5)).await.unwrap(), None, "another audience");
        let got = consume(&ctx, "h1", "customer", Timestamp(5)).await.unwrap().unwrap();
        assert_eq!((got.email.as_str(), got.used), ("ann@example.com", true));
        assert_eq!(consume(&ctx, "h1", "customer", Timestamp(6)).await.unwrap(), None, "used");

        crate::services::store::apply(&ctx, put_new("h2", &rec).unwrap()).await.unwrap();
        assert_eq!(consume(&ctx, "h2", "customer", Timestamp(10_000)).await.unwrap(), None, "lapsed");
        assert_eq!(consume(&ctx, "nope", "customer", Timestamp(5)).await.unwrap(), None, "unknown");
    }

    #[tokio::test]
    async fn a_counter_stops_at_its_max() {
        let (_dir, ctx) = ctx();
        let k = counter("ip#1.2.3.4", Timestamp(0));
        for _ in 0..2 {
            assert!(crate::services::store::apply(&ctx, count(k.clone(), 2, Timestamp(1000))).await.unwrap());
        }
        assert!(!crate::services::store::apply(&ctx, count(k, 2, Timestamp(1000))).await.unwrap());
    }
}
