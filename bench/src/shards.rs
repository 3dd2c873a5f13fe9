//! `bench shards [K] [INSTANCES] [CHECKOUTS] [FILES]`: a simulation of
//! docs/SCALE.md "stock in shards" on the Records port of the embedded
//! backend, so every hold is a real conditional transaction under a real
//! version lock. K shards each own the files whose name hashes to them and
//! keep their own counters (`SHARD#k/COUNTS`, version-guarded) and
//! gap-free ledger (`SHARDLEDGER#k/{version}`). A checkout starts at the
//! shard its order id hashes to and walks on while shards are empty. To
//! make "each file held at most once" checkable here, a hold takes its
//! shard's next free file at once (the real checkout only counts it).
//!
//! After the run: winners == min(files, checkouts), distinct files, each
//! shard's ledger gap-free and summing to its counters. Any violation
//! fails the run.

mod book;
mod check;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shared::adapters::embedded::open_embedded;
use shared::app;

use crate::stack::percentile_ms;
use book::{Book, Hold};
use check::Outcome;

#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub shards: usize,
    pub instances: usize,
    pub checkouts: usize,
    pub files: usize,
}

impl Plan {
    pub fn parse(args: &[String]) -> anyhow::Result<Plan> {
        let arg = |i: usize, default: usize| -> anyhow::Result<usize> {
            args.get(i).map_or(Ok(default), |v| v.parse().context("K, INSTANCES, CHECKOUTS, FILES: whole numbers"))
        };
        let plan = Plan { shards: arg(0, 16)?, instances: arg(1, 32)?, checkouts: arg(2, 2000)?, files: arg(3, 1000)? };
        if args.len() > 4 || plan.shards == 0 || plan.instances == 0 || plan.checkouts == 0 {
            bail!("usage: bench shards [K >= 1] [INSTANCES >= 1] [CHECKOUTS] [FILES]");
        }
        Ok(plan)
    }
}

pub async fn run(plan: Plan) -> anyhow::Result<()> {
    // tmpfs when there is one: the figure is about the lock, not the disk.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.context("temp dir")?;
    let e = open_embedded(dir.path(), app::clock())?;
    let book = Arc::new(Book::create(Arc::new(e.records), plan.shards, plan.files).await?);
    println!(
        "bench shards: K = {} shards, {} instances, {} concurrent checkouts for {} files (embedded, {}); files per \
         shard min {} max {}",
        plan.shards,
        plan.instances,
        plan.checkouts,
        plan.files,
        dir.path().display(),
        book.files.iter().map(Vec::len).min().unwrap_or(0),
        book.files.iter().map(Vec::len).max().unwrap_or(0)
    );
    // One lock per shard per instance, as each process serialises its own
    // commits to one book (ctx.stock_lock today).
    let locks: Vec<Arc<Vec<tokio::sync::Mutex<()>>>> = (0..plan.instances)
        .map(|_| Arc::new((0..plan.shards).map(|_| tokio::sync::Mutex::new(())).collect()))
        .collect();
    let gate = Arc::new(tokio::sync::Barrier::new(plan.checkouts + 1));
    let retries = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.checkouts {
        let (book, lock, gate, retries) =
            (book.clone(), locks[i % plan.instances].clone(), gate.clone(), retries.clone());
        tasks.spawn(async move {
            gate.wait().await;
            let t = Instant::now();
            let hold = book.checkout(&format!("o{i:07}"), &lock, &retries).await?;
            Ok::<_, anyhow::Error>((hold, t.elapsed()))
        });
    }
    gate.wait().await;
    let started = Instant::now();
    let mut outcome = Outcome::default();
    let mut latencies = Vec::with_capacity(plan.checkouts);
    while let Some(r) = tasks.join_next().await {
        let (hold, latency) = r??;
        latencies.push(latency);
        match hold {
            Hold::Won { shard, file, walked } => {
                outcome.walked += walked as u64;
                outcome.won.push((shard, file));
            }
            Hold::Refused => outcome.refused += 1,
            Hold::GaveUp => outcome.gave_up += 1,
        }
    }
    let elapsed = started.elapsed();
    report(&plan, &outcome, elapsed, &mut latencies, retries.load(Ordering::Relaxed));

    let mut failed = check::oversell(plan.files, plan.checkouts, &outcome);
    failed.extend(book.verify(&outcome).await?);
    if !failed.is_empty() {
        bail!("checks failed:\n  {}", failed.join("\n  "));
    }
    println!("  check: no oversell, each file held once, every shard's ledger gap-free and equal to its counters");
    Ok(())
}

fn report(plan: &Plan, o: &Outcome, elapsed: Duration, latencies: &mut [Duration], retries: u64) {
    latencies.sort();
    println!(
        "  {:.2} s, {:.0} checkouts/s ({:.0} holds/s); p50 {:.1} ms, p99 {:.1} ms; won {}, refused {}, gave up {}; \
         version-lock retries {} ({:.2} per checkout); shard walks {}",
        elapsed.as_secs_f64(),
        plan.checkouts as f64 / elapsed.as_secs_f64(),
        o.won.len() as f64 / elapsed.as_secs_f64(),
        percentile_ms(latencies, 50.0),
        percentile_ms(latencies, 99.0),
        o.won.len(),
        o.refused,
        o.gave_up,
        retries,
        retries as f64 / plan.checkouts as f64,
        o.walked
    );
}
