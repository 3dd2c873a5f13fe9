//! Benchmarks. `bench reconcile N` runs reconcile over N stock files on the
//! embedded backend (see reconcile.rs). `bench purchase` counts the AWS
//! requests of one purchase of each plan (see purchase.rs).

mod counting;
mod heap;
#[cfg(feature = "aws")]
mod purchase;
mod reconcile;

use anyhow::{Context, bail};

#[global_allocator]
static ALLOC: heap::Tracking = heap::Tracking;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, n] if cmd == "reconcile" => reconcile::bench(n.parse().context("N must be a whole number")?).await,
        #[cfg(feature = "aws")]
        [cmd] if cmd == "purchase" => purchase::run().await,
        _ => bail!("usage: bench reconcile N | bench purchase"),
    }
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

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
