//! The write half of the record store: one request's writes inside a
//! (possibly shared) redb write transaction. Conditions and new items are
//! worked out first without writing, so a refused request leaves the
//! transaction exactly as it found it and its neighbours can still commit.
//!
//! The group's one writer does this for every request in turn, so what
//! needs no stored item (checking a put and turning it into bytes) is done
//! before the request queues (`prepare`), on the caller's thread.

use std::borrow::Cow;
use std::collections::HashSet;

use redb::WriteTransaction;

use super::group::Step;
use super::records_eval::{apply_changes, check_changes, check_item, check_key, holds, invalid};
use super::records_table::{GSI1, ITEMS, IndexEntry, ItemTable, encode, load, load_index_entry, store, store_err};
use crate::ports::records::{Change, Cond, Item, Key, MAX_TRANSACTION_ITEMS, RecordError, Write};

/// A write checked and, for a put, already in stored form.
pub(super) enum Prepared {
    Put { key: Key, cond: Option<Cond>, bytes: Vec<u8>, entry: IndexEntry },
    Update { key: Key, changes: Vec<Change>, cond: Option<Cond> },
    Delete { key: Key, cond: Option<Cond> },
    Check { key: Key, cond: Cond },
}

impl Prepared {
    fn key(&self) -> &Key {
        match self {
            Prepared::Put { key, .. }
            | Prepared::Update { key, .. }
            | Prepared::Delete { key, .. }
            | Prepared::Check { key, .. } => key,
        }
    }

    fn cond(&self) -> Option<&Cond> {
        match self {
            Prepared::Put { cond, .. } | Prepared::Update { cond, .. } | Prepared::Delete { cond, .. } => cond.as_ref(),
            Prepared::Check { cond, .. } => Some(cond),
        }
    }
}

/// What DynamoDB rejects before looking at any item, and each put's bytes.
pub(super) fn prepare(writes: Vec<Write>) -> Result<Vec<Prepared>, RecordError> {
    if writes.len() > MAX_TRANSACTION_ITEMS {
        return Err(invalid(format!("more than {MAX_TRANSACTION_ITEMS} writes")));
    }
    let mut keys = HashSet::new();
    let mut prepared = Vec::with_capacity(writes.len());
    for write in writes {
        let p = match write {
            Write::Put { item, cond } => {
                let key = check_item(&item)?;
                let bytes = encode(&item)?;
                Prepared::Put { key, cond, bytes, entry: IndexEntry::of(&item) }
            }
            Write::Update { key, changes, cond } => {
                check_changes(&changes)?;
                Prepared::Update { key, changes, cond }
            }
            Write::Delete { key, cond } => Prepared::Delete { key, cond },
            Write::Check { key, cond } => Prepared::Check { key, cond },
        };
        check_key(p.key())?;
        if !keys.insert(p.key().clone()) {
            return Err(invalid("one transaction names the same item twice"));
        }
        prepared.push(p);
    }
    Ok(prepared)
}

/// One write, decided: the index entry before, the bytes and entry after
/// (`None`: removed), and for an update the item it leaves.
struct Planned<'p> {
    key: &'p Key,
    old: IndexEntry,
    new: Option<(Cow<'p, [u8]>, Cow<'p, IndexEntry>)>,
    left: Option<Item>,
}

/// Applies every write or none; returns the item the last update left (what
/// `update` returns). Errors before the first store are answers; a store
/// error breaks the transaction.
pub(super) fn apply_all(txn: &WriteTransaction, writes: &[Prepared]) -> Step<Option<Item>, RecordError> {
    let tables = txn.open_table(ITEMS).and_then(|items| Ok((items, txn.open_table(GSI1)?)));
    let (mut items, mut index) = match tables {
        Ok(t) => t,
        Err(e) => return Step::Answer(Err(store_err(e))),
    };
    let mut plans = Vec::with_capacity(writes.len());
    for (i, write) in writes.iter().enumerate() {
        match plan(&items, write, i) {
            Ok(p) => plans.push(p),
            Err(e) => return Step::Answer(Err(e)),
        }
    }
    let mut last = None;
    for p in plans.into_iter().flatten() {
        let new = p.new.as_ref().map(|(bytes, entry)| (bytes.as_ref(), entry.as_ref()));
        if let Err(e) = store(&mut items, &mut index, p.key, &p.old, new) {
            return Step::Broken(e);
        }
        last = p.left;
    }
    Step::Answer(Ok(last))
}

/// Reads what the write needs of the stored item, checks the condition and
/// works out what to store, writing nothing (a check stores nothing).
fn plan<'p>(items: &ItemTable, write: &'p Prepared, i: usize) -> Result<Option<Planned<'p>>, RecordError> {
    let key = write.key();
    let cond = write.cond();
    // A put or delete under no condition, or one only on presence, needs
    // only the stored item's index entry, not the item.
    let whole = matches!(write, Prepared::Update { .. }) || !needs_only_presence(cond);
    let (old, current) = if whole {
        let current = load(items, key)?;
        (current.as_ref().map(IndexEntry::of), current)
    } else {
        (load_index_entry(items, key)?, None)
    };
    if let Some(cond) = cond {
        let present = old.is_some().then(Item::new);
        if !holds(cond, if whole { current.as_ref() } else { present.as_ref() }) {
            let current = if whole { current } else { load(items, key)? };
            return Err(RecordError::ConditionFailed { index: i, current });
        }
    }
    let (new, left) = match write {
        Prepared::Put { bytes, entry, .. } => (Some((Cow::Borrowed(bytes.as_slice()), Cow::Borrowed(entry))), None),
        Prepared::Update { changes, .. } => {
            let item = apply_changes(current, key, changes.clone())?;
            (Some((Cow::Owned(encode(&item)?), Cow::Owned(IndexEntry::of(&item)))), Some(item))
        }
        Prepared::Delete { .. } => (None, None),
        Prepared::Check { .. } => return Ok(None),
    };
    Ok(Some(Planned { key, old: old.unwrap_or_default(), new, left }))
}

/// Whether the condition looks at nothing but whether the item exists.
fn needs_only_presence(cond: Option<&Cond>) -> bool {
    matches!(cond, None | Some(Cond::Exists | Cond::NotExists))
}
