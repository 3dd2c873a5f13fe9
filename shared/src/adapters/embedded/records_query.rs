//! Queries over the table `(pk, sk)` and the index `(gsi1pk, gsi1sk, pk, sk)`.
//!
//! A position is the list of key parts (`[pk, sk]` or `[gsi1pk, gsi1sk, pk,
//! sk]`); lists compare part by part exactly like redb's tuple keys, so the
//! range bounds are computed once for both shapes.

use std::ops::Bound;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redb::ReadTransaction;

use super::records_eval::invalid;
use super::records_table::{GSI1, ITEMS, decode, store_err};
use crate::ports::records::{Index, Item, Page, Query, RecordError, SkRange};

type Position = Vec<String>;
type Span = (Bound<Position>, Bound<Position>);

pub(super) fn run(txn: &ReadTransaction, q: &Query) -> Result<Page, RecordError> {
    if q.limit == 0 {
        return Err(invalid("limit must be at least 1"));
    }
    let arity = match q.index {
        Index::Table => 2,
        Index::Gsi1 => 4,
    };
    let Some((lower, upper)) = bounds(q, arity)? else {
        return Ok(Page::default());
    };
    let mut found: Vec<(Position, Item)> = Vec::new();
    let want = q.limit.saturating_add(1);
    match q.index {
        Index::Table => {
            let table = txn.open_table(ITEMS).map_err(store_err)?;
            let range = table.range((lower.map(pair), upper.map(pair))).map_err(store_err)?;
            let iter: Box<dyn Iterator<Item = _>> = if q.descending { Box::new(range.rev()) } else { Box::new(range) };
            for entry in iter.take(want) {
                let (k, v) = entry.map_err(store_err)?;
                let (pk, sk) = k.value();
                found.push((vec![pk, sk], decode(v.value())?));
            }
        }
        Index::Gsi1 => {
            let items = txn.open_table(ITEMS).map_err(store_err)?;
            let index = txn.open_table(GSI1).map_err(store_err)?;
            let range = index.range((lower.map(quad), upper.map(quad))).map_err(store_err)?;
            let iter: Box<dyn Iterator<Item = _>> = if q.descending { Box::new(range.rev()) } else { Box::new(range) };
            for entry in iter.take(want) {
                let (k, _) = entry.map_err(store_err)?;
                let (g, gs, pk, sk) = k.value();
                // The index is written in the same transaction as the item,
                // so a missing item cannot happen; skip rather than fail.
                if let Some(v) = items.get((pk.clone(), sk.clone())).map_err(store_err)? {
                    found.push((vec![g, gs, pk, sk], decode(v.value())?));
                }
            }
        }
    }
    let mut next = None;
    if found.len() > q.limit {
        found.truncate(q.limit);
        next = found.last().map(|(pos, _)| encode_cursor(&pos[1..]));
    }
    Ok(Page { items: found.into_iter().map(|(_, item)| item).collect(), next })
}

/// The range to scan, narrowed by the cursor; `None` when it is empty.
fn bounds(q: &Query, arity: usize) -> Result<Option<Span>, RecordError> {
    let at = |sk: String| pad(vec![q.pk.clone(), sk], arity);
    let partition_end = Bound::Excluded(pad(vec![format!("{}\0", q.pk)], arity));
    let (mut lower, mut upper) = match &q.sk {
        SkRange::All => (Bound::Included(at(String::new())), partition_end),
        SkRange::Prefix(p) => {
            let end = prefix_end(p).map(|e| Bound::Excluded(at(e))).unwrap_or(partition_end);
            (Bound::Included(at(p.clone())), end)
        }
        SkRange::Between(a, b) => {
            if a.is_empty() || b.is_empty() {
                return Err(invalid("between: bounds must not be empty strings"));
            }
            if a > b {
                return Err(invalid("between: lower bound above upper bound"));
            }
            // Everything at `b` (any table key, on the index) is inside.
            (Bound::Included(at(a.clone())), Bound::Excluded(at(format!("{b}\0"))))
        }
    };
    if let Some(cursor) = &q.cursor {
        let mut pos = vec![q.pk.clone()];
        pos.extend(decode_cursor(cursor, arity - 1)?);
        if q.descending {
            if pos <= *bound_value(&upper) {
                upper = Bound::Excluded(pos);
            }
        } else if pos >= *bound_value(&lower) {
            lower = Bound::Excluded(pos);
        }
    }
    let (lo, hi) = (bound_value(&lower), bound_value(&upper));
    let empty = lo > hi || (lo == hi && !(matches!(lower, Bound::Included(_)) && matches!(upper, Bound::Included(_))));
    Ok(if empty { None } else { Some((lower, upper)) })
}

fn bound_value(b: &Bound<Position>) -> &Position {
    match b {
        Bound::Included(v) | Bound::Excluded(v) => v,
        // Never built here; an empty list sorts first, which is harmless.
        Bound::Unbounded => const { &Vec::new() },
    }
}

fn pad(mut parts: Position, arity: usize) -> Position {
    parts.resize(arity, String::new());
    parts
}

/// The least string above every string that starts with `prefix`, if any
/// (a prefix of only `char::MAX` has none).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(c) = next {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn pair(mut p: Position) -> (String, String) {
    let sk = p.pop().unwrap_or_default();
    let pk = p.pop().unwrap_or_default();
    (pk, sk)
}

fn quad(p: Position) -> (String, String, String, String) {
    let mut it = p.into_iter();
    let mut next = || it.next().unwrap_or_default();
    (next(), next(), next(), next())
}

fn encode_cursor(parts: &[String]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(parts).unwrap_or_default())
}

fn decode_cursor(cursor: &str, parts: usize) -> Result<Position, RecordError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid("malformed cursor"))?;
    let pos: Position = serde_json::from_slice(&bytes).map_err(|_| invalid("malformed cursor"))?;
    if pos.len() != parts {
        return Err(invalid("cursor belongs to another index"));
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_string_past_the_prefix() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let parts = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(decode_cursor(&encode_cursor(&parts), 3).ok(), Some(parts));
        assert!(decode_cursor("!!", 1).is_err());
        assert!(decode_cursor(&encode_cursor(&["x".to_string()]), 3).is_err());
    }

    #[test]
    fn a_cursor_past_the_range_gives_an_empty_range() {
        let q = Query::new(Index::Table, "p")
            .sk(SkRange::Between("a".into(), "b".into()))
            .after(Some(encode_cursor(&["z".to_string()])));
        assert!(matches!(bounds(&q, 2), Ok(None)));
    }
}
