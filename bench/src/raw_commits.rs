//! The embedded backend's raw durable commit rate: single small write
//! transactions, each committed with redb's default durability (fsync),
//! through the Records port and straight on redb, on the benchmark's own
//! database file, and straight on redb on a fresh file in the same
//! directory (a fresh file also grows on most commits).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use redb::{Database, TableDefinition};
use serde_json::json;
use shared::ports::{Key, Records};
use shared::services::Ctx;
use shared::services::items::to_item;

/// Each measurement runs this long (or `MAX_COMMITS`, whichever comes first).
const SPAN: Duration = Duration::from_secs(3);
const MAX_COMMITS: usize = 5000;
const WRITERS: usize = 16;

/// The records table's own shape (`(pk, sk) -> item JSON`).
const RAW: TableDefinition<(String, String), &[u8]> = TableDefinition::new("bench_raw");

pub struct Rates {
    pub port_sequential: f64,
    /// Pages of 4 KiB written per commit by `port_sequential`'s puts.
    pub port_pages: f64,
    pub port_concurrent: f64,
    pub raw_same_file: f64,
    pub raw_fresh_file: f64,
}

impl std::fmt::Display for Rates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "raw durable commits (one small item per write transaction, default durability):\n  \
             Records port records.put, one writer: {:.0} commits/s ({:.2} ms each, {:.1} pages written each)\n  \
             Records port records.put, {WRITERS} writers: {:.0} commits/s\n  \
             redb directly, same file, one writer: {:.0} commits/s ({:.2} ms each)\n  \
             redb directly, fresh file, one writer: {:.0} commits/s ({:.2} ms each)",
            self.port_sequential,
            1000.0 / self.port_sequential,
            self.port_pages,
            self.port_concurrent,
            self.raw_same_file,
            1000.0 / self.raw_same_file,
            self.raw_fresh_file,
            1000.0 / self.raw_fresh_file
        )
    }
}

/// `db` is the file under `ctx`'s records; the fresh file goes in `dir`.
pub async fn measure(ctx: &Arc<Ctx>, db: Arc<Database>, dir: &Path) -> anyhow::Result<Rates> {
    let raw_same_file = tokio::task::spawn_blocking(move || raw_rate(&db)).await??;
    let wrote = crate::written_bytes();
    let (port_sequential, commits) = port_rate(ctx, 1).await?;
    let port_pages = (crate::written_bytes() - wrote) as f64 / 4096.0 / commits.max(1) as f64;
    let (port_concurrent, _) = port_rate(ctx, WRITERS).await?;
    let path = dir.join("raw.redb");
    let raw_fresh_file = tokio::task::spawn_blocking(move || {
        let db = Database::create(&path).with_context(|| format!("creating {}", path.display()))?;
        raw_rate(&db)
    })
    .await??;
    Ok(Rates { port_sequential, port_pages, port_concurrent, raw_same_file, raw_fresh_file })
}

/// Commits per second (and how many) of `writers` tasks each putting one
/// small item per call.
async fn port_rate(ctx: &Arc<Ctx>, writers: usize) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let records = ctx.records.clone();
        tasks.spawn(async move {
            let mut n = 0usize;
            while started.elapsed() < SPAN && n < MAX_COMMITS / writers {
                put_one(records.as_ref(), w, n).await?;
                n += 1;
            }
            Ok::<_, anyhow::Error>(n)
        });
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r??;
    }
    Ok((total as f64 / started.elapsed().as_secs_f64(), total))
}

async fn put_one(records: &dyn Records, writer: usize, n: usize) -> anyhow::Result<()> {
    let key = Key::new(format!("BENCH#commit#{writer}"), format!("{n:08}"));
    records.put(to_item(&key, &json!({"n": n}), None, None)?, None).await?;
    Ok(())
}

fn raw_rate(db: &Database) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < SPAN && n < MAX_COMMITS as u64 {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(RAW)?;
            table.insert(("BENCH#raw".to_string(), format!("{n:08}")), br#"{"n":1}"#.as_slice())?;
        }
        txn.commit()?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
