//! Idempotency-Key records of checkouts (`IDEM#{sha256(key)}`): the same
//! key with the same request replays the order; kept 7 days.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::items::{from_item, to_item};
use super::super::{Ctx, ServiceError};
use crate::domain::Timestamp;
use crate::ports::{Cond, Key, Write};

const TTL_DAYS: i64 = 7;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: String,
}

/// Hashed, so a key's text is never a table key.
pub fn key(idempotency_key: &str) -> Key {
    let h = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    Key::new(format!("IDEM#{h}"), "IDEM")
}

pub async fn get(ctx: &Ctx, idempotency_key: &str) -> Result<Option<IdempotencyRecord>, ServiceError> {
    match ctx.records.get(&key(idempotency_key)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// The record, once: fails its condition if the key was used before.
pub fn put(idempotency_key: &str, rec: &IdempotencyRecord, now: Timestamp) -> Result<Write, ServiceError> {
    let item = to_item(&key(idempotency_key), rec, None, Some(now.plus_days(TTL_DAYS).secs()))?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_under_a_hashed_key() {
        let rec = IdempotencyRecord { request_hash: "h".into(), order_id: "o1".into() };
        let Write::Put { item, .. } = put("k-1", &rec, Timestamp::from_secs(0)).unwrap() else { panic!("a put") };
        assert!(!item["pk"].as_str().unwrap().contains("k-1"));
        assert_eq!(item["ttl"], serde_json::json!(7 * 86_400));
        let back: IdempotencyRecord = from_item(item).unwrap();
        assert_eq!(back.order_id, "o1");
    }
}
