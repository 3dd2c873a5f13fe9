//! The record store's two redb tables and the item <-> bytes step: the
//! table `(pk, sk) -> item JSON` and the index `(gsi1pk, gsi1sk, pk, sk)`,
//! and `store`, which writes an item and keeps its index entry in step.
//! Queries (`records_query`) and writes (`records_write`) build on this;
//! `records` (the `Records` impl) sits on top of all three.

use redb::{ReadableTable, Table, TableDefinition};
use serde::Deserialize;
use serde_json::Value;

use super::records_eval::{MAX_ITEM_BYTES, check_item, gsi_entry, invalid};
use crate::ports::records::{Item, Key, RecordError};

pub(super) const ITEMS: TableDefinition<(String, String), &[u8]> = TableDefinition::new("records");
pub(super) const GSI1: TableDefinition<(String, String, String, String), ()> = TableDefinition::new("records_gsi1");

pub(super) type ItemTable<'t> = Table<'t, (String, String), &'static [u8]>;
pub(super) type IndexTable<'t> = Table<'t, (String, String, String, String), ()>;

/// An item from its stored bytes.
pub(super) fn decode(bytes: &[u8]) -> Result<Item, RecordError> {
    serde_json::from_slice(bytes).map_err(corrupt)
}

/// Stored bytes that do not parse: the store is damaged, not the request.
fn corrupt(e: serde_json::Error) -> RecordError {
    RecordError::Unavailable(anyhow::Error::new(e).context("corrupt item"))
}

/// A redb failure: the store is unusable for now, not the request wrong.
pub(super) fn store_err(e: impl Into<redb::Error>) -> RecordError {
    RecordError::Unavailable(anyhow::Error::new(e.into()))
}

/// An item's stored bytes, refused as DynamoDB would refuse it (keys, index
/// attributes, size).
pub(super) fn encode(item: &Item) -> Result<Vec<u8>, RecordError> {
    check_item(item)?;
    let bytes = serde_json::to_vec(item).map_err(|e| invalid(format!("item does not serialize: {e}")))?;
    if bytes.len() > MAX_ITEM_BYTES {
        return Err(invalid("item larger than 400 KB"));
    }
    Ok(bytes)
}

/// The item at `key`, if any.
pub(super) fn load(items: &ItemTable, key: &Key) -> Result<Option<Item>, RecordError> {
    let found = items.get((key.pk.clone(), key.sk.clone())).map_err(store_err)?;
    found.map(|v| decode(v.value())).transpose()
}

/// An item's place in the index (gsi1pk, gsi1sk), if it has one.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct IndexEntry(Option<(String, String)>);

impl IndexEntry {
    pub(super) fn of(item: &Item) -> Self {
        IndexEntry(gsi_entry(item))
    }
}

/// The stored item's index attributes; the rest of its JSON is skipped
/// without being built.
#[derive(Deserialize)]
struct IndexAttrs {
    #[serde(default)]
    gsi1pk: Option<Value>,
    #[serde(default)]
    gsi1sk: Option<Value>,
}

/// The index entry of the item at `key`, if there is an item: what a write
/// that does not look inside the item needs.
pub(super) fn load_index_entry(items: &ItemTable, key: &Key) -> Result<Option<IndexEntry>, RecordError> {
    let Some(found) = items.get((key.pk.clone(), key.sk.clone())).map_err(store_err)? else { return Ok(None) };
    let attrs: IndexAttrs = serde_json::from_slice(found.value()).map_err(corrupt)?;
    let entry = match (attrs.gsi1pk, attrs.gsi1sk) {
        (Some(Value::String(g)), Some(Value::String(s))) => Some((g, s)),
        _ => None,
    };
    Ok(Some(IndexEntry(entry)))
}

/// Writes (or removes, for `None`) the item's bytes and moves its index
/// entry from `old` to the new one.
pub(super) fn store(
    items: &mut ItemTable,
    index: &mut IndexTable,
    key: &Key,
    old: &IndexEntry,
    new: Option<(&[u8], &IndexEntry)>,
) -> Result<(), RecordError> {
    if let IndexEntry(Some((g, s))) = old {
        index.remove((g.clone(), s.clone(), key.pk.clone(), key.sk.clone())).map_err(store_err)?;
    }
    let k = (key.pk.clone(), key.sk.clone());
    match new {
        Some((bytes, entry)) => {
            items.insert(k, bytes).map_err(store_err)?;
            if let IndexEntry(Some((g, s))) = entry {
                index.insert((g.clone(), s.clone(), key.pk.clone(), key.sk.clone()), ()).map_err(store_err)?;
            }
        }
        None => {
            items.remove(k).map_err(store_err)?;
        }
    }
    Ok(())
}
