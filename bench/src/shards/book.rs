//! The sharded stock book on the Records port: per shard a counters item
//! (`unused`, `held`, `version`) and a ledger keyed by version, written in
//! one transaction with the hold and its file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use shared::ports::{Change, Cond, Item, Key, Query, RecordError, Records, Write};
use shared::services::retry::{Tries, pause};

use super::check::{Entry, Outcome, ledger};

pub struct Book {
    records: Arc<dyn Records>,
    /// Each shard's files, in the order holds take them.
    pub files: Vec<Vec<String>>,
}

pub enum Hold {
    Won {
        shard: usize,
        file: String,
        walked: usize,
    },
    /// Every shard was empty.
    Refused,
    /// The retry budget ran out (a 409 "try again" in the real checkout).
    GaveUp,
}

fn counts_key(shard: usize) -> Key {
    Key::new(format!("SHARD#{shard:03}"), "COUNTS")
}

fn ledger_pk(shard: usize) -> String {
    format!("SHARDLEDGER#{shard:03}")
}

fn file_key(name: &str) -> Key {
    Key::new(format!("SHARDFILE#{name}"), "FILE")
}

fn item(key: &Key, body: Value) -> Item {
    let mut item = match body {
        Value::Object(m) => m,
        _ => Item::new(),
    };
    item.insert("pk".into(), key.pk.clone().into());
    item.insert("sk".into(), key.sk.clone().into());
    item
}

fn put_new(key: &Key, body: Value) -> Write {
    Write::Put { item: item(key, body), cond: Some(Cond::NotExists) }
}

/// FNV-1a: stable across builds, unlike the std hasher.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn num(item: &Item, name: &str) -> anyhow::Result<i64> {
    item.get(name).and_then(Value::as_i64).with_context(|| format!("{name} missing"))
}

impl Book {
    /// `files` files spread by name hash over `shards` shards, each shard's
    /// stock booked as its ledger's version 1.
    pub async fn create(records: Arc<dyn Records>, shards: usize, files: usize) -> anyhow::Result<Book> {
        let mut by_shard = vec![Vec::new(); shards];
        for i in 0..files {
            let name = format!("acct-{i:07}.session");
            let shard = (hash(&name) % shards as u64) as usize;
            records
                .put(item(&file_key(&name), json!({"shard": shard, "status": "free"})), Some(Cond::NotExists))
                .await?;
            by_shard[shard].push(name);
        }
        for (shard, names) in by_shard.iter().enumerate() {
            let n = names.len() as i64;
            let entry = json!({"version": 1, "delta": n, "before": 0, "after": n, "reason": "restock"});
            records
                .transact(vec![
                    put_new(&counts_key(shard), json!({"unused": n, "held": 0, "version": 1})),
                    put_new(&Key::new(ledger_pk(shard), format!("{:012}", 1)), entry),
                ])
                .await?;
        }
        Ok(Book { records, files: by_shard })
    }

    /// Holds one file for `order`: from the order's shard, else the next
    /// ones with stock.
    pub async fn checkout(
        &self,
        order: &str,
        locks: &[tokio::sync::Mutex<()>],
        retries: &AtomicU64,
    ) -> anyhow::Result<Hold> {
        let k = self.files.len();
        let start = (hash(order) % k as u64) as usize;
        for walked in 0..k {
            let shard = (start + walked) % k;
            let _serial = locks[shard].lock().await;
            match self.hold_in(shard, order, retries).await? {
                Some(Some(file)) => return Ok(Hold::Won { shard, file, walked }),
                Some(None) => continue,
                None => return Ok(Hold::GaveUp),
            }
        }
        Ok(Hold::Refused)
    }

    /// Some(Some(file)) held, Some(None) the shard is empty, None out of
    /// retries.
    async fn hold_in(&self, shard: usize, order: &str, retries: &AtomicU64) -> anyhow::Result<Option<Option<String>>> {
        let mut tries = Tries::start();
        loop {
            let counts = self.records.get(&counts_key(shard)).await?.context("shard counters missing")?;
            let (unused, held, version) = (num(&counts, "unused")?, num(&counts, "held")?, num(&counts, "version")?);
            if unused - held <= 0 {
                return Ok(Some(None));
            }
            let file = self.files[shard].get(held as usize).context("counters past the shard's files")?.clone();
            let entry = json!({"version": version + 1, "delta": -1, "before": unused - held,
                "after": unused - held - 1, "order": order, "file": file});
            // The counters first: a lost race must report the version, not
            // the file the winner just took.
            let writes = vec![
                Write::Update {
                    key: counts_key(shard),
                    changes: vec![
                        Change::Set("held".into(), (held + 1).into()),
                        Change::Set("version".into(), (version + 1).into()),
                    ],
                    cond: Some(Cond::eq("version", version)),
                },
                put_new(&Key::new(ledger_pk(shard), format!("{:012}", version + 1)), entry),
                Write::Update {
                    key: file_key(&file),
                    changes: vec![
                        Change::Set("status".into(), "held".into()),
                        Change::Set("order".into(), order.into()),
                    ],
                    cond: Some(Cond::And(vec![Cond::eq("status", "free"), Cond::eq("shard", shard as i64)])),
                },
                put_new(&Key::new(format!("SHARDHOLD#{order}"), "HOLD"), json!({"shard": shard, "file": file})),
            ];
            match self.records.transact(writes).await {
                Ok(()) => return Ok(Some(Some(file))),
                Err(RecordError::ConditionFailed { index: 0 | 1, .. } | RecordError::Conflict) => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    if !tries.lose() {
                        return Ok(None);
                    }
                    pause(tries.lost() - 1).await;
                }
                Err(RecordError::ConditionFailed { index, .. }) => {
                    bail!("order {order}: write {index} refused (file {file} already held, or the order twice)")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads every shard's counters and ledger back: violations found.
    pub async fn verify(&self, outcome: &Outcome) -> anyhow::Result<Vec<String>> {
        let mut failed = Vec::new();
        for shard in 0..self.files.len() {
            let counts = self.records.get(&counts_key(shard)).await?.context("shard counters missing")?;
            let entries = self.ledger(shard).await?;
            let won = outcome.won.iter().filter(|(s, _)| *s == shard).count() as i64;
            let (unused, held, version) = (num(&counts, "unused")?, num(&counts, "held")?, num(&counts, "version")?);
            failed.extend(ledger(shard, &entries, unused - held, version));
            if held != won || unused != self.files[shard].len() as i64 {
                failed.push(format!("shard {shard}: counters held {held} unused {unused}, {won} holds won"));
            }
        }
        Ok(failed)
    }

    async fn ledger(&self, shard: usize) -> anyhow::Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(Query::new(shared::ports::Index::Table, ledger_pk(shard)).limit(1000).after(cursor))
                .await?;
            for i in &page.items {
                out.push(Entry {
                    version: num(i, "version")?,
                    delta: num(i, "delta")?,
                    before: num(i, "before")?,
                    after: num(i, "after")?,
                });
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}
