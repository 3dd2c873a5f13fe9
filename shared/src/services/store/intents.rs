//! The INTENTS index: unfinished work that names files (assign:
//! ORDER#id/INTENT, revoke: SUB#id/REVOKE, adjust: FILE#name/ADJUST). Three
//! kinds share it, read as items and told apart by their `sk`. Reconcile
//! finishes the stale ones; the invariant checker leaves the files they name
//! to them.

use std::fmt;

use serde_json::Value;

use super::{INTENTS_INDEX, Pages, up_to};
use crate::ports::{Index, Item, Query, SkRange};
use crate::services::{Ctx, ServiceError};

#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// Fulfilment of an order (the id).
    Assign(String),
    /// Files going back from a subscription (the id).
    Revoke(String),
    /// A staff adjustment's moves (the file it is about).
    Adjust(String),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Assign(order) => write!(f, "assign {order}"),
            Kind::Revoke(sub) => write!(f, "revoke {sub}"),
            Kind::Adjust(file) => write!(f, "adjust {file}"),
        }
    }
}

#[derive(Debug)]
pub struct Pending {
    pub kind: Kind,
    pub files: Vec<String>,
}

/// The intent an item holds, if it is one and not done.
pub fn parse(item: &Item) -> Option<Pending> {
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
pub async fn each_pending(ctx: &Ctx, upto: Option<String>, mut f: impl FnMut(Pending)) -> Result<(), ServiceError> {
    let range = upto.map_or(SkRange::All, up_to);
    let mut pages: Pages<Item> = Pages::new(ctx, Query::new(Index::Gsi1, INTENTS_INDEX).sk(range).limit(100));
    while let Some(page) = pages.next_page().await? {
        page.iter().filter_map(parse).for_each(&mut f);
    }
    Ok(())
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
        assert_eq!((r.kind.to_string(), r.files), ("revoke So1".to_string(), vec!["a".to_string()]));
        assert!(parse(&item(json!({"sk": "INTENT", "order_id": "o1", "files": [], "done": true}))).is_none());
        assert!(parse(&item(json!({"sk": "OTHER", "order_id": "o1"}))).is_none());
        let a = parse(&item(json!({"sk": "ADJUST", "file": "f", "files": ["f", "g"], "done": false}))).unwrap();
        assert_eq!((a.kind, a.files), (Kind::Adjust("f".into()), vec!["f".to_string(), "g".to_string()]));
    }
}
