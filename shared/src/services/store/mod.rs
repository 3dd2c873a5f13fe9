//! The typed storage layer between the `Records` port and the use cases.
//! One module per record kind owns its key, its index entries and its
//! attribute names, and hands out typed records and typed writes; business
//! code names no `gsi1pk`, no `Change::Set` and no key format.
//!
//! Conventions for a kind `x`:
//! - `x::key(id)`; the record struct; `x::get(ctx, id)` / `x::load`;
//! - writes are functions returning `Write`s for a `Tx` (`x::put(&rec)`,
//!   `x::set_status(..)`), and the conditions they need (`x::is_status(..)`);
//! - index queries return `Pages` of typed records.

pub mod adjusts;
pub mod alerts;
pub mod catalog;
pub mod credits;
pub mod files;
pub mod idempotency;
pub mod intents;
pub mod ledger_index;
pub mod limits;
pub mod mails;
pub mod merge;
pub mod order_index;
pub mod orders;
pub mod outbox;
mod pages;
pub mod receipts;
pub mod replacements;
pub mod revokes;
pub mod seats;
pub mod signin;
pub mod staff;
pub mod stock;
pub mod subscriptions;
#[cfg(test)]
mod tests;
pub mod usage;

pub use pages::{Listing, Pages};

use serde::de::DeserializeOwned;

use super::items::from_item;
use super::{Ctx, ServiceError};
use crate::domain::Timestamp;
use crate::ports::{Cond, Key, SkRange, Write};

/// Unfinished intents by creation time (reconcile finishes stale ones):
/// fulfilment's, revokes and staff adjustments.
pub const INTENTS_INDEX: &str = "INTENTS";

/// An index sort key: the time, then the id.
pub fn sort_at(t: Timestamp, id: &str) -> String {
    format!("{}#{id}", t.sort_key())
}

/// Index entries sorted at or before `upto` (a `sort_at` key). DynamoDB
/// refuses an empty string in a key condition, so the range starts at "0",
/// below every fixed-width time.
pub fn up_to(upto: String) -> SkRange {
    SkRange::Between("0".into(), upto)
}

/// A write with its condition set (`files::relocate(..).when(files::is_at(..))`).
pub trait Guard {
    fn when(self, cond: Cond) -> Write;
}

impl Guard for Write {
    fn when(self, cond: Cond) -> Write {
        match self {
            Write::Put { item, .. } => Write::Put { item, cond: Some(cond) },
            Write::Update { key, changes, .. } => Write::Update { key, changes, cond: Some(cond) },
            Write::Delete { key, .. } => Write::Delete { key, cond: Some(cond) },
            Write::Check { key, .. } => Write::Check { key, cond },
        }
    }
}

/// One record read strongly, as a `T`.
async fn read<T: DeserializeOwned>(ctx: &Ctx, key: &Key) -> Result<Option<T>, ServiceError> {
    Ok(ctx.records.get(key).await?.map(from_item).transpose()?)
}

/// A put of a record that must be new.
fn put_new(item: crate::ports::Item) -> Write {
    Write::Put { item, cond: Some(Cond::NotExists) }
}

/// Runs one write on its own (not in a transaction); false when its
/// condition failed.
pub async fn apply(ctx: &Ctx, write: Write) -> Result<bool, ServiceError> {
    let done = match write {
        Write::Put { item, cond } => ctx.records.put(item, cond).await,
        Write::Update { key, changes, cond } => ctx.records.update(&key, changes, cond).await.map(|_| ()),
        Write::Delete { key, cond } => ctx.records.delete(&key, cond).await,
        check @ Write::Check { .. } => ctx.records.transact(vec![check]).await,
    };
    match done {
        Ok(()) => Ok(true),
        Err(crate::ports::RecordError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
