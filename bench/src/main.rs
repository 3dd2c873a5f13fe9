//! Benchmarks. `bench reconcile N` builds an embedded stack in a temporary
//! directory with N stock files (90% new under unused/, 10% assigned with
//! their records, ten per user), runs reconcile (it adopts the new ones),
//! then runs it again on the settled stock. For each run it prints the time,
//! peak RSS (VmHWM, reset before the run), peak live heap above the start,
//! and storage requests by kind. `bench purchase [embedded|aws]` counts the
//! DynamoDB, S3 and SQS requests of one purchase of each plan (see
//! purchase/mod.rs; aws needs the feature of that name). `bench throughput
//! [N] [C]` measures end-to-end orders/s through the HTTP router next to the
//! raw durable commit rate (see throughput.rs); `bench contention` runs 1,000
//! concurrent checkouts for 100 files against 1,000 uncontended ones (see
//! contention.rs); both on the embedded backend. `bench model` is the long
//! model-based run; `bench coldstart` times each function binary's cold start
//! (see coldstart.rs).

#[cfg(feature = "aws")]
mod coldstart;
mod commits;
mod contention;
mod counting;
mod heap;
mod model;
mod purchase;
mod raw_commits;
mod stack;
mod throughput;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use shared::adapters::embedded::{FILES_DIR, open_embedded};
use shared::adapters::sandbox::SandboxGateway;
use shared::config::{Config, Place};
use shared::domain::{Location, StockCounts};
use shared::ports::clock::{OffsetClock, UlidGen};
use shared::ports::{Clock, Index, Query, Records, Write};
use shared::services::items::to_item;
use shared::services::model::{CountsRecord, FileRecord};
use shared::services::{Ctx, catalog, keys, reconcile};

use counting::{CountingFiles, CountingRecords, Counts};

#[global_allocator]
static ALLOC: heap::Tracking = heap::Tracking;

/// Every tenth file is assigned, ten to a user.
const ASSIGNED_EVERY: usize = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, n] if cmd == "reconcile" => reconcile_bench(n.parse().context("N must be a whole number")?).await,
        [cmd, rest @ ..] if cmd == "purchase" && rest.len() <= 1 => {
            purchase::run(purchase::backend(rest.first().map(String::as_str))?).await
        }
        #[cfg(feature = "aws")]
        [cmd, rest @ ..] if cmd == "coldstart" => coldstart::run(rest).await,
        [cmd, rest @ ..] if cmd == "model" => model::run(rest).await,
        [cmd, rest @ ..] if cmd == "throughput" && rest.len() <= 2 => {
            let arg = |i: usize, default: usize| -> anyhow::Result<usize> {
                rest.get(i).map_or(Ok(default), |v| v.parse().context("N and C must be whole numbers"))
            };
            throughput::run(arg(0, 2000)?, arg(1, 16)?).await
        }
        [cmd] if cmd == "contention" => contention::run().await,
        _ => bail!(
            "usage: bench reconcile N | bench purchase [embedded{}] | bench model [SCHEDULES] [SEED] | bench throughput [N] [C] | bench contention{}",
            if cfg!(feature = "aws") { "|aws" } else { "" },
            if cfg!(feature = "aws") { " | bench coldstart [DIR] [RUNS]" } else { "" }
        ),
    }
}

async fn reconcile_bench(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone())?;
    let counts = Arc::new(Counts::default());
    let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("config: {e:?}"))?;
    let ctx = Ctx::new(
        Arc::new(CountingRecords { inner: b.records.clone(), counts: counts.clone() }),
        Arc::new(CountingFiles { inner: b.files, counts: counts.clone() }),
        Arc::new(b.fulfil),
        Arc::new(b.events),
        Arc::new(SandboxGateway { public_url: "http://127.0.0.1".into() }),
        clock.clone(),
        Arc::new(UlidGen),
        shared::app::settings(&cfg),
    );
    catalog::seed(&ctx).await?;
    let started = Instant::now();
    let assigned = stock_files(&dir.path().join(FILES_DIR), n, &b.records, clock.as_ref()).await?;
    println!(
        "bench reconcile: {n} files ({} new under unused/, {assigned} assigned with records), embedded backend; setup {:.1} s",
        n - assigned,
        started.elapsed().as_secs_f64()
    );
    for label in
        ["run 1 (adopts the new files)", "run 2 (steady state)", "baseline (the listings and index pages alone)"]
    {
        counts.reset();
        heap::reset_peak();
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let (rss0, heap0) = (proc_kib("VmRSS:"), heap::current());
        let t = Instant::now();
        let r =
            if label.starts_with("baseline") { read_all(&ctx).await? } else { reconcile::run(&ctx, "bench").await? };
        let secs = t.elapsed().as_secs_f64();
        let hwm = if hwm_reset { "" } else { " (VmHWM not reset: whole process)" };
        println!("{label}: {secs:.2} s");
        println!(
            "  peak RSS {:.1} MiB{hwm} (RSS before {:.1} MiB); peak live heap {:.1} MiB above the {:.1} MiB at start",
            mib(proc_kib("VmHWM:") * 1024),
            mib(rss0 * 1024),
            mib(heap::peak().saturating_sub(heap0) as u64),
            mib(heap0 as u64)
        );
        println!("  requests: {}", counts.summary());
        if !label.starts_with("baseline") {
            println!("  report: {}", serde_json::to_string(&r)?);
        }
    }
    Ok(())
}

/// What any pass costs on this backend: every listing page and every
/// FILES index page, read and dropped.
async fn read_all(ctx: &Ctx) -> anyhow::Result<reconcile::ReconcileReport> {
    let mut scanned = 0;
    for prefix in ["unused/", "assigned/", "banned/", "frozen/"] {
        let mut after: Option<String> = None;
        loop {
            let page = ctx.files.list(prefix, after.as_deref(), 1000).await?;
            scanned += page.keys.len() as u64;
            match page.next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
    }
    for at in ["unused", "assigned"] {
        let mut cursor = None;
        loop {
            let q = Query::new(Index::Gsi1, keys::files_at(at)).limit(1000).after(cursor);
            match ctx.records.query(q).await?.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(reconcile::ReconcileReport { scanned, ..Default::default() })
}

/// Puts the files straight into the tree (as an upload would) and writes
/// the records and counters of the assigned ones. Returns how many are assigned.
async fn stock_files(root: &Path, n: usize, records: &impl Records, clock: &dyn Clock) -> anyhow::Result<usize> {
    let mut batch = Vec::new();
    let mut assigned = 0;
    for i in 0..n {
        // Spread names so creation order is not name order.
        let name = format!("acct-{:08x}-{i:07}.session", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32);
        let key = if i % ASSIGNED_EVERY == 0 {
            let user = format!("u{:06}", i / (ASSIGNED_EVERY * 10));
            let rec = FileRecord {
                name: name.clone(),
                location: Location::Assigned,
                user_id: Some(user.clone()),
                order_id: Some(format!("order-{user}")),
                updated_at: clock.now(),
                ban_on_return: false,
            };
            let gsi = (keys::files_at("assigned"), name.clone());
            batch.push(Write::Put { item: to_item(&keys::file(&name), &rec, Some(gsi), None)?, cond: None });
            if batch.len() == 100 {
                records.transact(std::mem::take(&mut batch)).await?;
            }
            assigned += 1;
            format!("assigned/{user}/{name}")
        } else {
            format!("unused/{name}")
        };
        let path = root.join(&key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, b"session").with_context(|| format!("writing {key}"))?;
    }
    if !batch.is_empty() {
        records.transact(batch).await?;
    }
    let counters =
        CountsRecord { counts: StockCounts { assigned: assigned as i64, ..StockCounts::default() }, version: 1 };
    records.put(to_item(&keys::stock_counts(), &counters, None, None)?, None).await?;
    Ok(assigned)
}

/// A `Vm*:` line of /proc/self/status, in KiB (0 where there is none).
fn proc_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
