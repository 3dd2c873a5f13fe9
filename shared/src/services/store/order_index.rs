//! Staff search over orders. Each order has two pointer records beside it
//! (`ORDER#{id}` / `BY_EMAIL`, `BY_DATE`), in the `ORDERS_BY_EMAIL#{email}`
//! and `ORDERS_BY_DATE` index partitions sorted by creation; the order itself
//! sits in `ORDERS#{status}` by last change (`orders::with_status`). Pages
//! are cut at an index sort key, so orders that arrive meanwhile (always
//! newer) never shift a page.

use serde::{Deserialize, Serialize};

use super::super::items::{from_item, to_item};
use super::super::{Ctx, ServiceError};
use super::sort_at;
use crate::domain::{OrderStatus, Timestamp};
use crate::ports::records::GSI1SK;
use crate::ports::{Cond, Index, Key, Query, SkRange, Write};

const BY_DATE: &str = "ORDERS_BY_DATE";

fn by_email(email: &str) -> String {
    format!("ORDERS_BY_EMAIL#{email}")
}

/// What a pointer holds: enough to fetch the order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderPointer {
    pub order_id: String,
    pub created_at: Timestamp,
}

/// The pointers of a new order, for its checkout transaction.
pub fn put(order: &super::orders::OrderRecord) -> Result<Vec<Write>, ServiceError> {
    let p = OrderPointer { order_id: order.order_id.clone(), created_at: order.created_at };
    let sk = sort_at(order.created_at, &order.order_id);
    let pk = super::orders::key(&order.order_id).pk;
    let mut out = Vec::new();
    for (kind, partition) in [("BY_EMAIL", by_email(&order.email)), ("BY_DATE", BY_DATE.to_string())] {
        let item = to_item(&Key::new(pk.clone(), kind), &p, Some((partition, sk.clone())), None)?;
        out.push(Write::Put { item, cond: Some(Cond::NotExists) });
    }
    Ok(out)
}

fn backfilled_key() -> Key {
    Key::new("META", "ORDER_INDEX_BACKFILLED")
}

/// Gives orders made before the pointers existed theirs, once: a pass over
/// every status partition, then a marker, so later runs cost one read. An
/// order that changes status during the pass may be missed (it moved from a
/// partition not yet read to one already read); new orders get their
/// pointers at checkout. Returns the pointers written.
pub async fn backfill(ctx: &Ctx) -> Result<u64, ServiceError> {
    if ctx.records.get(&backfilled_key()).await?.is_some() {
        return Ok(0);
    }
    let mut added = 0;
    for status in OrderStatus::ALL {
        let mut pages = super::orders::with_status(ctx, status, None, 100);
        while let Some(page) = pages.next_page().await? {
            for order in page {
                for w in put(&order)? {
                    // Refused: the pointer is there already.
                    added += u64::from(super::apply(ctx, w).await?);
                }
            }
        }
    }
    let marker = serde_json::json!({"at": ctx.clock.now()});
    super::apply(ctx, Write::Put { item: to_item(&backfilled_key(), &marker, None, None)?, cond: None }).await?;
    Ok(added)
}

/// Which index a staff listing reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every order, by creation.
    All,
    /// One buyer's orders, by creation.
    Email(String),
    /// Orders now in this status, by the time they entered it.
    Status(OrderStatus),
}

/// Newest first, sort keys from `since` to below `before` (a sort key from
/// a previous page) or `until`.
#[derive(Clone, Debug)]
pub struct Window {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub before: Option<String>,
    pub limit: usize,
}

/// One index page: the records read (pointers or orders, as `Entry`) and
/// the sort key to continue below, when more may follow.
pub struct IndexPage {
    pub entries: Vec<Entry>,
    pub next: Option<String>,
}

pub enum Entry {
    Pointer(OrderPointer),
    Order(Box<super::orders::OrderRecord>),
}

/// Reads at most `limit + 1` index entries: one page, whatever the history.
pub async fn page(ctx: &Ctx, scope: &Scope, w: &Window) -> Result<IndexPage, ServiceError> {
    let partition = match scope {
        Scope::All => BY_DATE.to_string(),
        Scope::Email(e) => by_email(e),
        Scope::Status(s) => super::orders::status_partition(*s),
    };
    let lo = w.since.map(|t| sort_at(t, "")).unwrap_or_else(|| "0".into());
    let mut hi = w.until.map(|t| sort_at(t, "~")).unwrap_or_else(|| "~".into());
    if let Some(b) = &w.before
        && *b < hi
    {
        hi = b.clone();
    }
    if lo > hi {
        return Ok(IndexPage { entries: Vec::new(), next: None });
    }
    // Between is inclusive: the cursor's own entry comes back and is dropped.
    let q = Query::new(Index::Gsi1, partition).sk(SkRange::Between(lo, hi)).descending().limit(w.limit + 2);
    let page = ctx.records.query(q).await?;
    let store_more = page.next.is_some();
    let mut entries = Vec::new();
    let mut last = None;
    let mut more = false;
    for item in page.items {
        let sk = item.get(GSI1SK).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        if w.before.as_deref() == Some(sk.as_str()) {
            continue;
        }
        if entries.len() == w.limit {
            more = true;
            break;
        }
        entries.push(match scope {
            Scope::Status(_) => Entry::Order(Box::new(from_item(item)?)),
            _ => Entry::Pointer(from_item(item)?),
        });
        last = Some(sk);
    }
    // The store may stop short of the limit and say more follow.
    let more = more || store_more;
    Ok(IndexPage { entries, next: if more { last } else { None } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, ProviderKind};
    use crate::services::model::OrderRecord;
    use crate::testkit::stack::embedded_ctx;

    fn order(n: i64, email: &str) -> OrderRecord {
        let t = Timestamp::from_secs(1_700_000_000 + n);
        let v = serde_json::json!({
            "order_id": format!("o{n}"), "email": email, "user_id": "u", "product_id": "bronze", "files": 1,
            "interval_seconds": 3600, "validity_days": 30, "price": Money::usd(3000), "provider": ProviderKind::Stripe,
            "status": "pending", "created_at": t, "updated_at": t, "reserved_until": t,
        });
        serde_json::from_value(v).unwrap()
    }

    async fn walk(ctx: &Ctx, scope: Scope, limit: usize, since: Option<Timestamp>) -> Vec<String> {
        let mut w = Window { since, until: None, before: None, limit };
        let mut out = Vec::new();
        loop {
            let page = page(ctx, &scope, &w).await.unwrap();
            assert!(page.entries.len() <= limit);
            for e in page.entries {
                match e {
                    Entry::Pointer(p) => out.push(p.order_id),
                    Entry::Order(o) => out.push(o.order_id),
                }
            }
            match page.next {
                Some(n) => w.before = Some(n),
                None => return out,
            }
        }
    }

    #[tokio::test]
    async fn pointers_page_newest_first_by_email_and_date() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        for n in 0..7 {
            let o = order(n, if n % 2 == 0 { "a@x.io" } else { "b@x.io" });
            let mut writes = put(&o).unwrap();
            writes.push(crate::services::store::orders::put_new(&o).unwrap());
            ctx.records.transact(writes).await.unwrap();
        }
        let ids = |v: &[i64]| v.iter().map(|n| format!("o{n}")).collect::<Vec<_>>();
        assert_eq!(walk(&ctx, Scope::All, 3, None).await, ids(&[6, 5, 4, 3, 2, 1, 0]));
        assert_eq!(walk(&ctx, Scope::Email("a@x.io".into()), 1, None).await, ids(&[6, 4, 2, 0]));
        assert_eq!(walk(&ctx, Scope::Status(OrderStatus::Pending), 2, None).await, ids(&[6, 5, 4, 3, 2, 1, 0]));
        let since = Some(Timestamp::from_secs(1_700_000_004));
        assert_eq!(walk(&ctx, Scope::All, 2, since).await, ids(&[6, 5, 4]));
        assert!(walk(&ctx, Scope::Email("c@x.io".into()), 5, None).await.is_empty());
    }

    #[tokio::test]
    async fn orders_from_before_the_pointers_get_them_once() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        for n in 0..3 {
            let o = order(n, "old@x.io");
            ctx.records.transact(vec![crate::services::store::orders::put_new(&o).unwrap()]).await.unwrap();
        }
        let mut fresh = put(&order(3, "old@x.io")).unwrap();
        fresh.push(crate::services::store::orders::put_new(&order(3, "old@x.io")).unwrap());
        ctx.records.transact(fresh).await.unwrap();
        assert_eq!(walk(&ctx, Scope::Email("old@x.io".into()), 10, None).await, ["o3"]);
        assert_eq!(backfill(&ctx).await.unwrap(), 6, "two pointers for each of the three old orders");
        assert_eq!(walk(&ctx, Scope::Email("old@x.io".into()), 10, None).await, ["o3", "o2", "o1", "o0"]);
        assert_eq!(walk(&ctx, Scope::All, 10, None).await.len(), 4);
        ctx.records
            .transact(vec![crate::services::store::orders::put_new(&order(4, "x@x.io")).unwrap()])
            .await
            .unwrap();
        assert_eq!(backfill(&ctx).await.unwrap(), 0, "done once");
    }
}
