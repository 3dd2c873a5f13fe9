//! The embedded backend: redb for records and queues, a directory tree for
//! stock files. Durable: data survives a restart.
//!
//! Records and every queue share one redb file; redb allows one open handle
//! per file, so open it once (`open_embedded`) and hand the handle around.
//! Writes to both go through one group-commit path (`group`).

mod files;
mod files_index;
mod files_list;
#[cfg(test)]
mod files_tests;
mod group;
#[cfg(test)]
mod group_tests;
mod queue;
mod records;
mod records_eval;
mod records_query;
mod records_table;
mod records_write;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::ports::Clock;

pub use files::{DirFiles, STOCK_PREFIXES};
pub use group::WriterLoad;
pub use queue::EmbeddedQueue;
pub use records::EmbeddedRecords;

/// The work queue the fulfilment worker reads.
pub const FULFIL_QUEUE: &str = "fulfil";
/// The queue of notifications (emails, alerts).
pub const EVENTS_QUEUE: &str = "events";
/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "stockroom.redb";
/// The stock file tree inside the data directory.
pub const FILES_DIR: &str = "files";

/// Everything the local stack needs, on one data directory.
#[derive(Clone)]
pub struct Embedded {
    pub records: EmbeddedRecords,
    pub fulfil: EmbeddedQueue,
    pub events: EmbeddedQueue,
    pub files: DirFiles,
}

/// Opens (creating when missing) the database `data_dir/stockroom.redb`, the
/// queues "fulfil" and "events" in it, and the file tree `data_dir/files`
/// with its four prefixes. Blocking: call it once at startup.
pub fn open_embedded(data_dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Embedded> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let records = EmbeddedRecords::open(&data_dir.join(DATABASE_FILE))?;
    let fulfil = EmbeddedQueue::open_in(records.writer(), FULFIL_QUEUE, clock.clone())?;
    let events = EmbeddedQueue::open_in(records.writer(), EVENTS_QUEUE, clock)?;
    let files = DirFiles::open(data_dir.join(FILES_DIR))?;
    Ok(Embedded { records, fulfil, events, files })
}

/// Runs blocking storage work on tokio's blocking pool; `lost` turns a
/// panicked or cancelled task into the caller's error type.
async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
    lost: fn(anyhow::Error) -> E,
) -> Result<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => Err(lost(anyhow::Error::new(join).context("embedded storage task failed"))),
    }
}
