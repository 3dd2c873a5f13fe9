//! The two stores under the same load, each the way the embedded backend's
//! one writer uses redb: per commit, every write reads its key first (the
//! condition check), writes or deletes the item, moves its index entry,
//! and the commit is durable before it returns.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

use super::load::Write;
use crate::contents::ITEMS;

/// The embedded index's own shape, beside the records table (`ITEMS`).
const INDEX: TableDefinition<(String, String, String, String), ()> = TableDefinition::new("records_gsi1");

pub trait Store {
    fn name(&self) -> &'static str;
    /// Applies `writes` in one durable commit.
    fn commit(&mut self, writes: &[Write]) -> anyhow::Result<()>;
}

/// redb, a copy-on-write B-tree: a commit writes every page it dirtied.
pub struct BTree(Database);

impl BTree {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        Ok(BTree(Database::create(path)?))
    }
}

impl Store for BTree {
    fn name(&self) -> &'static str {
        "redb (B-tree, today's store)"
    }

    fn commit(&mut self, writes: &[Write]) -> anyhow::Result<()> {
        let txn = self.0.begin_write()?;
        {
            let (mut items, mut index) = (txn.open_table(ITEMS)?, txn.open_table(INDEX)?);
            for w in writes {
                let key = (w.pk.clone(), w.sk.clone());
                std::hint::black_box(items.get(key.clone())?.map(|v| v.value().len()));
                match w.size {
                    Some(n) => items.insert(key, vec![b'x'; n].as_slice()).map(drop)?,
                    None => items.remove(key).map(drop)?,
                }
                let entry = |(g, s): &(String, String)| (g.clone(), s.clone(), w.pk.clone(), w.sk.clone());
                if let Some(old) = &w.old_index {
                    index.remove(entry(old))?;
                }
                if let Some(new) = &w.index {
                    index.insert(entry(new), ())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// fjall, a log-structured merge tree: a commit appends its writes to a
/// journal and syncs it; sorting into files happens later, in the
/// background.
pub struct Log {
    keyspace: fjall::Keyspace,
    items: fjall::PartitionHandle,
    index: fjall::PartitionHandle,
}

impl Log {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let keyspace = fjall::Config::new(path).open()?;
        let items = keyspace.open_partition("records", Default::default())?;
        let index = keyspace.open_partition("records_gsi1", Default::default())?;
        Ok(Log { keyspace, items, index })
    }
}

impl Store for Log {
    fn name(&self) -> &'static str {
        "fjall (log-structured)"
    }

    fn commit(&mut self, writes: &[Write]) -> anyhow::Result<()> {
        // Durable like redb's default: the journal is synced (fdatasync)
        // before the commit returns.
        let mut batch = self.keyspace.batch().durability(Some(fjall::PersistMode::SyncData));
        for w in writes {
            let key = format!("{}\0{}", w.pk, w.sk);
            std::hint::black_box(self.items.get(&key)?.map(|v| v.len()));
            match w.size {
                Some(n) => batch.insert(&self.items, key, vec![b'x'; n]),
                None => batch.remove(&self.items, key),
            }
            let entry = |(g, s): &(String, String)| format!("{g}\0{s}\0{}\0{}", w.pk, w.sk);
            if let Some(old) = &w.old_index {
                batch.remove(&self.index, entry(old));
            }
            if let Some(new) = &w.index {
                batch.insert(&self.index, entry(new), "");
            }
        }
        batch.commit()?;
        Ok(())
    }
}
