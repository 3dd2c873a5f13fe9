//! The write half of the record store: one request's writes inside a
//! (possibly shared) redb write transaction. Conditions and new items are
//! worked out first without writing, so a refused request leaves the
//! transaction exactly as it found it and its neighbours can still commit.

use std::collections::HashSet;

use redb::WriteTransaction;

use super::group::Step;
use super::records_eval::{apply_changes, check_changes, check_item, check_key, holds, invalid};
use super::records_table::{GSI1, ITEMS, ItemTable, encode, load, store, store_err};
use crate::ports::records::{Item, Key, MAX_TRANSACTION_ITEMS, RecordError, Write};

/// What DynamoDB rejects before looking at any item.
pub(super) fn validate(writes: &[Write]) -> Result<(), RecordError> {
    if writes.len() > MAX_TRANSACTION_ITEMS {
        return Err(invalid(format!("more than {MAX_TRANSACTION_ITEMS} writes")));
    }
    let mut keys = HashSet::new();
    for write in writes {
        let key = match write {
            Write::Put { item, .. } => check_item(item)?,
            Write::Update { key, changes, .. } => {
                check_changes(changes)?;
                key.clone()
            }
            Write::Delete { key, .. } | Write::Check { key, .. } => key.clone(),
        };
        check_key(&key)?;
        if !keys.insert(key) {
            return Err(invalid("one transaction names the same item twice"));
        }
    }
    Ok(())
}

/// One write, decided: the item before and after (with its bytes).
struct Planned {
    key: Key,
    old: Option<Item>,
    new: Option<(Item, Vec<u8>)>,
    check_only: bool,
}

/// Applies every write or none; returns the item the last write left (what
/// `update` returns). Errors before the first store are answers; a store
/// error breaks the transaction.
pub(super) fn apply_all(txn: &WriteTransaction, writes: &[Write]) -> Step<Option<Item>, RecordError> {
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
    for p in plans {
        if p.check_only {
            last = p.old;
            continue;
        }
        let new = p.new.as_ref().map(|(item, bytes)| (item, bytes.as_slice()));
        if let Err(e) = store(&mut items, &mut index, &p.key, p.old.as_ref(), new) {
            return Step::Broken(e);
        }
        last = p.new.map(|(item, _)| item);
    }
    Step::Answer(Ok(last))
}

/// Reads the item, checks the condition and works out the new item, writing
/// nothing.
fn plan(items: &ItemTable, write: &Write, i: usize) -> Result<Planned, RecordError> {
    let (key, cond) = match write {
        Write::Put { item, cond } => (check_item(item)?, cond.as_ref()),
        Write::Update { key, cond, .. } | Write::Delete { key, cond } => (key.clone(), cond.as_ref()),
        Write::Check { key, cond } => (key.clone(), Some(cond)),
    };
    let current = load(items, &key)?;
    if let Some(cond) = cond
        && !holds(cond, current.as_ref())
    {
        return Err(RecordError::ConditionFailed { index: i, current });
    }
    let next = match write {
        Write::Put { item, .. } => Some(item.clone()),
        Write::Update { changes, .. } => Some(apply_changes(current.clone(), &key, changes.clone())?),
        Write::Delete { .. } => None,
        Write::Check { .. } => return Ok(Planned { key, old: current, new: None, check_only: true }),
    };
    let new = next.map(|item| encode(&item).map(|bytes| (item, bytes))).transpose()?;
    Ok(Planned { key, old: current, new, check_only: false })
}
