//! `Records` on redb: the table `(pk, sk) -> item JSON` and the index
//! `(gsi1pk, gsi1sk, pk, sk)` (`records_table`), both written in one redb
//! write transaction, so conditions and writes are atomic like DynamoDB's.
//!
//! The files import one way: `records` -> `records_write`, `records_query`
//! -> `records_table` -> `records_eval` (pure).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use redb::{Database, ReadableTable};
use serde_json::Value;

use super::group::{Writer, WriterLoad};
use super::records_eval::check_key;
use super::records_table::{GSI1, ITEMS, IndexEntry, decode, store, store_err};
use super::records_write::{apply_all, prepare};
use super::{blocking, records_query};
use crate::ports::records::{Change, Cond, Item, Key, Page, Query, RecordError, Records, TTL, Write};

/// The record store. Cheap to clone; all clones share one database.
#[derive(Clone, Debug)]
pub struct EmbeddedRecords {
    db: Arc<Database>,
    writer: Writer,
}

impl EmbeddedRecords {
    /// Opens or creates the database file. Blocking.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let db = Database::create(path).with_context(|| format!("opening database {}", path.display()))?;
        Self::from_database(Arc::new(db))
    }

    /// Uses an open database (creating the tables when missing). Blocking.
    pub fn from_database(db: Arc<Database>) -> anyhow::Result<Self> {
        let txn = db.begin_write().context("creating record tables")?;
        txn.open_table(ITEMS).context("creating record table")?;
        txn.open_table(GSI1).context("creating index table")?;
        txn.commit().context("creating record tables")?;
        Ok(EmbeddedRecords { writer: Writer::new(db.clone()), db })
    }

    /// The database, to open queues in the same file.
    pub fn database(&self) -> Arc<Database> {
        self.db.clone()
    }

    /// What the database's one writer has done so far (queues in the same
    /// file included).
    pub fn writer_load(&self) -> WriterLoad {
        self.writer.load()
    }

    /// The database's group-commit write path, for queues in the same file.
    pub(super) fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Deletes items whose numeric `ttl` (epoch seconds) is at or before
    /// `now_secs`, as DynamoDB's TTL sweeper does; returns how many.
    pub async fn sweep_expired(&self, now_secs: i64) -> Result<usize, RecordError> {
        let db = self.db.clone();
        blocking(move || sweep(&db, now_secs), RecordError::Unavailable).await
    }

    /// Applies the writes all-or-nothing, batched with concurrent writers
    /// into one durable commit; returns the item the last update left.
    async fn write(&self, writes: Vec<Write>) -> Result<Option<Item>, RecordError> {
        let writes = prepare(writes)?;
        self.writer.write(move |txn| apply_all(txn, &writes), RecordError::Unavailable).await
    }
}

#[async_trait]
impl Records for EmbeddedRecords {
    async fn get(&self, key: &Key) -> Result<Option<Item>, RecordError> {
        check_key(key)?;
        let db = self.db.clone();
        let key = key.clone();
        blocking(
            move || {
                let txn = db.begin_read().map_err(store_err)?;
                let table = txn.open_table(ITEMS).map_err(store_err)?;
                let found = table.get((key.pk, key.sk)).map_err(store_err)?;
                found.map(|v| decode(v.value())).transpose()
            },
            RecordError::Unavailable,
        )
        .await
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), RecordError> {
        self.write(vec![Write::Put { item, cond }]).await.map(|_| ())
    }

    async fn update(&self, key: &Key, changes: Vec<Change>, cond: Option<Cond>) -> Result<Item, RecordError> {
        let written = self.write(vec![Write::Update { key: key.clone(), changes, cond }]).await?;
        written.ok_or_else(|| RecordError::Unavailable(anyhow::anyhow!("update wrote no item")))
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<(), RecordError> {
        self.write(vec![Write::Delete { key: key.clone(), cond }]).await.map(|_| ())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), RecordError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.write(writes).await.map(|_| ())
    }

    async fn query(&self, query: Query) -> Result<Page, RecordError> {
        let db = self.db.clone();
        blocking(
            move || {
                let txn = db.begin_read().map_err(store_err)?;
                records_query::run(&txn, &query)
            },
            RecordError::Unavailable,
        )
        .await
    }
}

fn sweep(db: &Database, now_secs: i64) -> Result<usize, RecordError> {
    let txn = db.begin_write().map_err(store_err)?;
    let swept = {
        let mut items = txn.open_table(ITEMS).map_err(store_err)?;
        let mut index = txn.open_table(GSI1).map_err(store_err)?;
        let mut expired = Vec::new();
        for entry in items.iter().map_err(store_err)? {
            let (k, v) = entry.map_err(store_err)?;
            let item = decode(v.value())?;
            if ttl_secs(&item).is_some_and(|t| t <= now_secs) {
                let (pk, sk) = k.value();
                expired.push((Key::new(pk, sk), item));
            }
        }
        for (key, item) in &expired {
            store(&mut items, &mut index, key, &IndexEntry::of(item), None)?;
        }
        expired.len()
    };
    txn.commit().map_err(store_err)?;
    Ok(swept)
}

/// DynamoDB ignores a `ttl` that is not a number.
fn ttl_secs(item: &Item) -> Option<i64> {
    match item.get(TTL)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}
