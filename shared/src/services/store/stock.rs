//! The stock counters (`STOCK/COUNTS`), the ledger (`LEDGER/{version}.{n}`)
//! and the invariant checker's ledger checkpoint (`STOCK/LEDGER_CHECKPOINT`,
//! outside the LEDGER partition so reading the ledger never returns it).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Pages, put_new, read};
use crate::domain::{LedgerKind, StockCounts, Timestamp};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};
use crate::services::items::to_item;
use crate::services::{Ctx, ServiceError};

/// The stock counters, guarded by `version` (optimistic lock): every stock
/// change bumps it, so ledger entries get a gap-free order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CountsRecord {
    #[serde(flatten)]
    pub counts: StockCounts,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub seq: String,
    pub at: Timestamp,
    pub kind: LedgerKind,
    #[serde(default)]
    pub file: Option<String>,
    /// Change of available stock (unused - reserved), and its value around it.
    pub delta: i64,
    pub before: i64,
    pub after: i64,
    /// All counts after this entry.
    pub counts: StockCounts,
    pub reason: String,
    pub reference: String,
    pub actor: String,
}

/// Where the ledger replay may start: see `invariants::ledger`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerCheckpoint {
    /// The counters' version at the anchor (checkpoints only move forward).
    pub version: u64,
    /// Entries up to and including the anchor.
    pub entries: u64,
    /// The last entry replayed, as it was then.
    pub anchor: LedgerEntry,
}

pub const LEDGER_PK: &str = "LEDGER";
const VERSION: &str = "version";

pub fn counts_key() -> Key {
    Key::new("STOCK", "COUNTS")
}

/// Entry `n` of the change that made the counters version `version`.
pub fn ledger_key(version: u64, n: usize) -> Key {
    Key::new(LEDGER_PK, seq(version, n))
}

/// `{version:012}.{n:03}`: sorts in ledger order.
pub fn seq(version: u64, n: usize) -> String {
    format!("{version:012}.{n:03}")
}

/// `{version}.{n}` as numbers ((0, 0) if malformed, which shows as a gap).
pub fn position(seq: &str) -> (u64, u64) {
    seq.split_once('.').map_or((0, 0), |(v, n)| (v.parse().unwrap_or(0), n.parse().unwrap_or(0)))
}

fn checkpoint_key() -> Key {
    Key::new("STOCK", "LEDGER_CHECKPOINT")
}

/// The counters (all zero, version 0, before the first stock change).
pub async fn counts(ctx: &Ctx) -> Result<CountsRecord, ServiceError> {
    Ok(read(ctx, &counts_key()).await?.unwrap_or_default())
}

/// The counters at `counts`, version `version`, onto exactly the version
/// `was` read (0: none written yet).
pub fn set_counts(counts: &StockCounts, version: u64, was: u64) -> Write {
    let guard = if was == 0 { Cond::NotExists } else { Cond::eq(VERSION, was) };
    let set = |name: &str, v: i64| Change::Set(name.into(), Value::from(v));
    Write::Update {
        key: counts_key(),
        changes: vec![
            set("unused", counts.unused),
            set("reserved", counts.reserved),
            set("assigned", counts.assigned),
            set("banned", counts.banned),
            set("frozen", counts.frozen),
            Change::Set(VERSION.into(), Value::from(version)),
        ],
        cond: Some(guard),
    }
}

/// A ledger line, written once, indexed by what it references
/// (`ledger_index`).
pub fn put_entry(e: &LedgerEntry) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&Key::new(LEDGER_PK, e.seq.clone()), e, super::ledger_index::gsi(e), None)?))
}

pub async fn entry(ctx: &Ctx, version: u64, n: usize) -> Result<Option<LedgerEntry>, ServiceError> {
    read(ctx, &ledger_key(version, n)).await
}

/// The ledger in order, optionally only after entry (`version`, `n`).
pub fn entries(ctx: &Ctx, after: Option<(u64, u64)>, limit: usize) -> Pages<'_, LedgerEntry> {
    Pages::new(ctx, in_order(after, limit))
}

/// The query `entries` pages through.
pub fn in_order(after: Option<(u64, u64)>, limit: usize) -> Query {
    let q = Query::new(Index::Table, LEDGER_PK).limit(limit);
    match after {
        Some((v, n)) => q.sk(SkRange::Between(seq(v, n as usize + 1), "~".into())),
        None => q,
    }
}

/// The ledger, newest first.
pub fn newest_first(ctx: &Ctx, limit: usize) -> Pages<'_, LedgerEntry> {
    newest_below(ctx, None, limit)
}

/// As `newest_first`, from `before` down (inclusive: skip it).
pub fn newest_below<'a>(ctx: &'a Ctx, before: Option<&str>, limit: usize) -> Pages<'a, LedgerEntry> {
    Pages::new(ctx, at_or_below(Query::new(Index::Table, LEDGER_PK), before).limit(limit))
}

/// `q` (sorted by seq) newest first, from `before` down, inclusive.
pub fn at_or_below(q: Query, before: Option<&str>) -> Query {
    match before {
        // Every seq starts with a digit, so "0" is below them all.
        Some(b) => q.descending().sk(SkRange::Between("0".into(), b.into())),
        None => q.descending(),
    }
}

pub async fn checkpoint(ctx: &Ctx) -> Result<Option<LedgerCheckpoint>, ServiceError> {
    read(ctx, &checkpoint_key()).await
}

/// Keeps `cp`; refused when a later checkpoint is stored.
pub fn save_checkpoint(cp: &LedgerCheckpoint) -> Result<Write, ServiceError> {
    let newer = Cond::Or(vec![Cond::NotExists, Cond::Le(VERSION.into(), cp.version as i64)]);
    Ok(Write::Put { item: to_item(&checkpoint_key(), cp, None, None)?, cond: Some(newer) })
}
