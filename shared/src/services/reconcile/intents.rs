//! Intents (assign: ORDER#id/INTENT, revoke: SUB#id/REVOKE) sit in the
//! INTENTS index until done. A stale one is finished, never undone; a young
//! one is in flight, and the files it names are its own.

use serde_json::Value;

use super::super::fulfil::{self, FulfilOutcome};
use super::super::store::files::FileRecord;
use super::super::store::{Pages, orders, revokes};
use super::super::{Ctx, ServiceError, adjust, keys, revoke};
use super::Run;
use crate::ports::{Index, Item, Query, SkRange};

/// An unfinished intent older than this is finished by reconcile.
pub const STALE_AFTER_MILLIS: i64 = 5 * 60 * 1000;

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Fulfilment of an order (the id).
    Assign(String),
    /// Files going back from a subscription (the id).
    Revoke(String),
    /// A staff adjustment's moves (the file it is about).
    Adjust(String),
}

#[derive(Debug)]
struct Pending {
    kind: Kind,
    files: Vec<String>,
}

fn parse(item: &Item) -> Option<Pending> {
    if item.get("done").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
    let kind = match item.get("sk").and_then(Value::as_str)? {
        "INTENT" => Kind::Assign(text("order_id")?),
        "REVOKE" => Kind::Revoke(text("subscription_id")?),
        "ADJUST" => Kind::Adjust(text("file")?),
        _ => return None,
    };
    let files = item
        .get("files")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    Some(Pending { kind, files })
}

/// Unfinished intents in the index, optionally only those created before
/// `upto` (a `sort_at` key), page by page.
async fn each_pending(ctx: &Ctx, upto: Option<String>, mut f: impl FnMut(Pending)) -> Result<(), ServiceError> {
    let range = upto.map_or(SkRange::All, keys::up_to);
    // Three kinds share the index: read as items, told apart by `parse`.
    let mut pages: Pages<Item> = Pages::new(ctx, Query::new(Index::Gsi1, keys::INTENTS_INDEX).sk(range).limit(100));
    while let Some(page) = pages.next_page().await? {
        page.iter().filter_map(parse).for_each(&mut f);
    }
    Ok(())
}

/// Finishes every stale intent through its own idempotent path.
pub(super) async fn finish_stale(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let cutoff = ctx.clock.now().plus_millis(-STALE_AFTER_MILLIS);
    let mut stale = Vec::new();
    each_pending(ctx, Some(keys::sort_at(cutoff, "~")), |p| stale.push(p.kind)).await?;
    for kind in stale {
        // Some(why) when the intent cannot finish by itself.
        let finished = match &kind {
            Kind::Assign(order_id) => fulfil::fulfil(ctx, order_id).await.map(|o| match o {
                FulfilOutcome::Fulfilled { .. } | FulfilOutcome::AlreadyDone => None,
                other => Some(format!("{other:?}")),
            }),
            Kind::Revoke(sub_id) => revoke::finish(ctx, sub_id).await.map(|_| None),
            Kind::Adjust(file) => adjust::finish(ctx, file).await.map(|_| None),
        };
        match finished {
            Ok(None) => {
                run.report.stale_intents += 1;
                tracing::warn!(?kind, "finished a stale intent");
            }
            Ok(Some(why)) => {
                run.report.errors += 1;
                tracing::error!(?kind, %why, "a stale intent cannot finish; staff must look");
            }
            Err(e) => {
                run.report.errors += 1;
                tracing::error!(?kind, error = ?e, "could not finish a stale intent");
            }
        }
    }
    Ok(())
}

/// How many intents are unfinished right now.
pub(super) async fn pending(ctx: &Ctx) -> Result<u64, ServiceError> {
    let mut n = 0;
    each_pending(ctx, None, |_| n += 1).await?;
    Ok(n)
}

/// Whether an unfinished intent owns the file. The record's own order is
/// read directly (strongly consistent); the index catches the rest, such as
/// a subscription whose files came from several orders.
pub(super) async fn owned(ctx: &Ctx, rec: &FileRecord) -> Result<bool, ServiceError> {
    if adjust::pending(ctx, &rec.name).await? {
        return Ok(true);
    }
    if let Some(order_id) = &rec.order_id {
        // Fulfilment derives the subscription id from the order id.
        for key in [orders::intent_key(order_id), revokes::key(&format!("S{order_id}"))] {
            // Stored items carry their key, so `parse` tells the kinds apart.
            if let Some(item) = ctx.records.get(&key).await?
                && parse(&item).is_some()
            {
                return Ok(true);
            }
        }
    }
    let mut found = false;
    each_pending(ctx, None, |p| found |= p.files.contains(&rec.name)).await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn intents_are_told_apart_by_their_sort_key() {
        let a = parse(&item(json!({"sk": "INTENT", "order_id": "o1", "files": ["a", "b"], "done": false}))).unwrap();
        assert_eq!(a.kind, Kind::Assign("o1".into()));
        assert_eq!(a.files, ["a", "b"]);
        let r = parse(&item(json!({"sk": "REVOKE", "subscription_id": "So1", "files": ["a"], "done": false}))).unwrap();
        assert_eq!(r.kind, Kind::Revoke("So1".into()));
        assert!(parse(&item(json!({"sk": "INTENT", "order_id": "o1", "files": [], "done": true}))).is_none());
        assert!(parse(&item(json!({"sk": "OTHER", "order_id": "o1"}))).is_none());
        let a = parse(&item(json!({"sk": "ADJUST", "file": "f", "files": ["f", "g"], "done": false}))).unwrap();
        assert_eq!((a.kind, a.files), (Kind::Adjust("f".into()), vec!["f".to_string(), "g".to_string()]));
    }
}
