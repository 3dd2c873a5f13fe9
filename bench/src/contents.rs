//! What the embedded store's file holds after a run, read straight from
//! redb: items by kind (count, mean bytes) and each table's B-tree (height,
//! pages, how full its leaves are). What an order writes, and into how
//! deep a tree, is what a commit's dirty pages come from.

use std::collections::BTreeMap;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle};
use shared::ports::Key;

use crate::commits::kind;

/// The embedded records table's own shape (`(pk, sk) -> item JSON`).
pub const ITEMS: TableDefinition<(String, String), &[u8]> = TableDefinition::new("records");

pub fn report(db: &Database) -> anyhow::Result<String> {
    let txn = db.begin_read()?;
    // Per kind: count, bytes, and the last key seen (its shape says
    // whether new items of the kind land together or anywhere).
    let mut kinds: BTreeMap<String, (u64, u64, Key)> = BTreeMap::new();
    for row in txn.open_table(ITEMS)?.iter()? {
        let (k, v) = row?;
        let (pk, sk) = k.value();
        let key = Key::new(pk, sk);
        let e = kinds.entry(kind(&key)).or_insert_with(|| (0, 0, key.clone()));
        e.0 += 1;
        e.1 += v.value().len() as u64;
        e.2 = key;
    }
    let mut out = String::from("items by kind (count, mean bytes of JSON, last key):");
    let mut all: Vec<_> = kinds.into_iter().collect();
    all.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (kind, (n, bytes, last)) in all {
        out += &format!("\n    {kind} {n} x {} B ({} / {})", bytes / n.max(1), last.pk, last.sk);
    }
    out += "\n  tables (height, leaf + branch pages, stored bytes per leaf page of 4 KiB):";
    for handle in txn.list_tables()? {
        let name = handle.name().to_string();
        let table = txn.open_untyped_table(handle)?;
        let s = table.stats()?;
        out += &format!(
            "\n    {name}: {} rows, height {}, {} + {} pages, {:.0}% full",
            table.len()?,
            s.tree_height(),
            s.leaf_pages(),
            s.branch_pages(),
            100.0 * s.stored_bytes() as f64 / (s.leaf_pages().max(1) * 4096) as f64
        );
    }
    Ok(out)
}
