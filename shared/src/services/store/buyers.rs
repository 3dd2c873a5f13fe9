//! Each buyer's orders, newest first (`BUYER#{user_id}` /
//! `ORDER#{created}#{order_id}`): one entry per order, written in the
//! checkout's own transaction, so `/me` lists a buyer's orders with one
//! query instead of a scan. The entry names the subscription the order
//! makes or is for, so subscriptions are found the same way.

use serde::{Deserialize, Serialize};

use super::super::items::{from_item, to_item};
use super::super::{Ctx, ServiceError};
use super::put_new;
use crate::domain::Timestamp;
use crate::ports::{Index, Key, Query, SkRange, Write};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerOrder {
    pub order_id: String,
    pub created_at: Timestamp,
    /// The subscription this order makes (a new plan) or is for (a renewal
    /// or add-on).
    #[serde(default)]
    pub subscription_id: Option<String>,
}

fn pk(user_id: &str) -> String {
    format!("BUYER#{user_id}")
}

pub fn key(user_id: &str, entry: &BuyerOrder) -> Key {
    Key::new(pk(user_id), format!("ORDER#{}#{}", entry.created_at.sort_key(), entry.order_id))
}

/// The entry of a new order (once).
pub fn put(user_id: &str, entry: &BuyerOrder) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(user_id, entry), entry, None, None)?))
}

/// The buyer's `limit` newest orders (one read, however many there are).
pub async fn newest(ctx: &Ctx, user_id: &str, limit: usize) -> Result<Vec<BuyerOrder>, ServiceError> {
    let query =
        Query::new(Index::Table, pk(user_id)).sk(SkRange::Prefix("ORDER#".into())).descending().limit(limit.max(1));
    let page = ctx.records.query(query).await?;
    Ok(page.items.into_iter().map(from_item).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::stack::embedded_ctx;

    #[tokio::test]
    async fn entries_come_back_newest_first_and_only_the_buyers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = embedded_ctx(dir.path());
        let e =
            |id: &str, at: i64| BuyerOrder { order_id: id.into(), created_at: Timestamp(at), subscription_id: None };
        for (user, entry) in [("u1", e("a", 1)), ("u1", e("b", 2)), ("u2", e("c", 3))] {
            assert!(super::super::apply(&ctx, put(user, &entry).unwrap()).await.unwrap());
        }
        assert!(!super::super::apply(&ctx, put("u1", &e("a", 1)).unwrap()).await.unwrap(), "once");
        let got = newest(&ctx, "u1", 10).await.unwrap();
        assert_eq!(got, vec![e("b", 2), e("a", 1)]);
        assert_eq!(newest(&ctx, "u1", 1).await.unwrap(), vec![e("b", 2)]);
    }
}
