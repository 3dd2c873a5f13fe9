//! Benchmarks. `bench reconcile N` runs reconcile over N stock files on the
//! embedded backend (see reconcile.rs); `bench listing N` pages through N
//! files on the embedded Files adapter (see listing.rs). `bench purchase [embedded|aws]` counts the
//! DynamoDB, S3 and SQS requests of one purchase of each plan (see
//! purchase/mod.rs; aws needs the feature of that name). `bench throughput
//! [N] [C]` measures end-to-end orders/s through the HTTP router next to the
//! raw durable commit rate (see throughput.rs); `bench contention` runs 1,000
//! concurrent checkouts for 100 files against 1,000 uncontended ones (see
//! contention.rs); both on the embedded backend (`contention aws [N]` on the
//! emulator). `bench shards [K] [INSTANCES]` simulates the sharded stock
//! book of docs/SCALE.md on the embedded Records port (see shards.rs). `bench engines
//! [PRELOAD] [ORDERS]` replays an order's writes on redb and on a
//! log-structured store (see engines.rs). `bench delivery [N]
//! [GAP_MS]` times commit -> merchant webhook received on the local stack
//! (see delivery.rs). `bench pages [N]` times the admin ledger, orders and
//! events pages over N of each (see pages.rs). `bench model` is the long
//! model-based run; `bench coldstart` times each function binary's cold start
//! (see coldstart.rs).

#[cfg(feature = "aws")]
mod coldstart;
mod commits;
mod contention;
mod contents;
mod counting;
mod delivery;
mod engines;
mod heap;
mod listing;
mod model;
mod pages;
mod purchase;
mod raw_commits;
mod reconcile;
mod shards;
mod stack;
mod throughput;

use anyhow::{Context, bail};

#[global_allocator]
static ALLOC: heap::Tracking = heap::Tracking;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, n] if cmd == "listing" => listing::run(n.parse().context("N must be a whole number")?).await,
        [cmd, n] if cmd == "reconcile" => reconcile::bench(n.parse().context("N must be a whole number")?).await,
        [cmd, rest @ ..] if cmd == "purchase" && rest.len() <= 1 => {
            purchase::run(purchase::backend(rest.first().map(String::as_str))?).await
        }
        #[cfg(feature = "aws")]
        [cmd, rest @ ..] if cmd == "coldstart" => coldstart::run(rest).await,
        [cmd, rest @ ..] if cmd == "model" => model::run(rest).await,
        [cmd, rest @ ..] if cmd == "throughput" && rest.len() <= 2 => {
            let arg = |i, default| number(rest, i, default, "N and C");
            throughput::run(arg(0, 2000)? as usize, arg(1, 16)? as usize).await
        }
        [cmd, rest @ ..] if cmd == "engines" && rest.len() <= 2 => {
            let arg = |i, default| number(rest, i, default, "PRELOAD and ORDERS");
            engines::run(arg(0, 2000)?, arg(1, 2000)?)
        }
        [cmd, rest @ ..] if cmd == "shards" => shards::run(shards::Plan::parse(rest)?).await,
        [cmd, rest @ ..] if cmd == "contention" => contention::run(contention::Plan::parse(rest)?).await,
        [cmd, rest @ ..] if cmd == "pages" && rest.len() <= 1 => {
            pages::run(rest.first().map_or(Ok(1000), |n| n.parse()).context("N must be a whole number")?).await
        }
        [cmd, rest @ ..] if cmd == "delivery" && rest.len() <= 2 => {
            let arg = |i, default| number(rest, i, default, "N and GAP_MS");
            delivery::run(arg(0, 300)? as usize, arg(1, 20)?).await
        }
        _ => bail!(
            "usage: bench reconcile N | bench listing N | bench purchase [embedded{}] | bench model [SCHEDULES] [SEED] | bench throughput [N] [C] | bench contention [embedded{}] [N] [INSTANCES] | bench shards [K] [INSTANCES] [CHECKOUTS] [FILES] | bench engines [PRELOAD] [ORDERS] | bench pages [N] | bench delivery [N] [GAP_MS]{}",
            if cfg!(feature = "aws") { "|aws" } else { "" },
            if cfg!(feature = "aws") { "|aws" } else { "" },
            if cfg!(feature = "aws") { " | bench coldstart [DIR] [RUNS]" } else { "" }
        ),
    }
}

/// The `i`th argument as a whole number, or `default` when it is not given.
fn number(args: &[String], i: usize, default: u64, what: &str) -> anyhow::Result<u64> {
    args.get(i).map_or(Ok(default), |v| v.parse().with_context(|| format!("{what} must be whole numbers")))
}

/// A `Vm*:` line of /proc/self/status, in KiB (0 where there is none).
pub(crate) fn proc_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system, all threads) this process has used, from
/// /proc/self/stat (clock ticks of 1/100 s): a figure that contention on a
/// shared machine stretches less than wall time.
pub(crate) fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    (f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0)) as f64 / 100.0
}

/// Bytes this process has handed to write calls so far (`wchar` in
/// /proc/self/io; 0 where there is none): on the embedded backend, what
/// redb's commits write.
pub(crate) fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines().find_map(|l| l.strip_prefix("wchar: ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
