//! `bench contention`: 1,000 checkouts of bronze (one file each) sent at
//! once through the HTTP router, against 100 files (contended: exactly 100
//! may win, 900 must get 409 insufficient-stock) and against 1,000 files
//! (uncontended: the same 1,000 concurrent checkouts, but stock for every
//! one, so none is refused; they still share the one counters record, as
//! every checkout does). Each pair runs with one instance (the local stack:
//! its in-process stock lock queues the commits) and with eight instances
//! on one store (like Lambda instances: only the counters' version lock
//! orders them, and losers of a race retry).
//!
//! `bench contention aws [N]` (feature `aws`, an emulator at
//! AWS_ENDPOINT_URL) runs the same on the AWS adapters with N checkouts
//! (200 by default), N/10 files contended and N uncontended, and 1, 8 and
//! 32 instances; each run on a fresh table, bucket and queues.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use axum::http::Method;
use serde_json::json;
use shared::services::jobs::StepReport;
use shared::services::{invariants, reconcile, stock};

use crate::commits::Snapshot;
use crate::stack::{Stack, call, kind, open_holds, percentile_ms};

/// Which backend, how many checkouts, and the instance counts to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub aws: bool,
    pub checkouts: usize,
    pub instances: Vec<usize>,
}

impl Plan {
    /// `[embedded|aws] [N] [INSTANCES]`: embedded 1,000 checkouts on 1 and 8
    /// instances; aws 200 on 1, 8 and 32; INSTANCES (`8,32`) picks the
    /// counts, since each moto run is long and grows the emulator.
    pub fn parse(args: &[String]) -> anyhow::Result<Plan> {
        let aws = match args.first().map(String::as_str) {
            None | Some("embedded") => false,
            Some("aws") if cfg!(feature = "aws") => true,
            Some(other) => bail!("unknown backend {other}"),
        };
        let default = if aws { 200 } else { 1000 };
        let checkouts = match args.get(1) {
            Some(n) => n.parse().map_err(|_| anyhow::anyhow!("N must be a whole number"))?,
            None => default,
        };
        let usage = "usage: bench contention [embedded|aws] [N >= 10] [INSTANCES, e.g. 8,32]";
        let instances = match args.get(2) {
            Some(list) => list.split(',').map(|n| n.trim().parse::<usize>().ok().filter(|&n| n > 0)).collect(),
            None => Some(if aws { vec![1, 8, 32] } else { vec![1, 8] }),
        };
        let Some(instances) = instances.filter(|i| !i.is_empty()) else { bail!(usage) };
        if checkouts < 10 || args.len() > 3 {
            bail!(usage);
        }
        Ok(Plan { aws, checkouts, instances })
    }

    /// Files of the contended run: a tenth of the checkouts.
    fn scarce(&self) -> usize {
        self.checkouts / 10
    }
}

pub async fn run(plan: Plan) -> anyhow::Result<()> {
    let (n, scarce) = (plan.checkouts, plan.scarce());
    println!(
        "bench contention: {n} concurrent checkouts of bronze (1 file), through the HTTP router in-process, \
         {} backend; contended = {scarce} files, uncontended = {n} files",
        if plan.aws { "AWS (emulator)" } else { "embedded" }
    );
    let mut failed = Vec::new();
    for &instances in &plan.instances {
        let contended = round(&plan, instances, scarce, &mut failed).await?;
        let uncontended = round(&plan, instances, n, &mut failed).await?;
        println!(
            "  => {instances} instance(s): contended / uncontended time = {:.2} (goal <= 3)",
            contended.as_secs_f64() / uncontended.as_secs_f64()
        );
    }
    if !failed.is_empty() {
        bail!("checks failed:\n  {}", failed.join("\n  "));
    }
    println!("all checks passed");
    Ok(())
}

/// One run of `plan.checkouts` concurrent checkouts over `files` files;
/// returns its time and adds to `failed` every check that did not hold.
async fn round(plan: &Plan, instances: usize, files: usize, failed: &mut Vec<String>) -> anyhow::Result<Duration> {
    let stack = Arc::new(open(plan, instances, files).await?);
    let checkouts = plan.checkouts;
    let label = format!("{} instance(s), {files} files", instances);
    let gate = Arc::new(tokio::sync::Barrier::new(checkouts + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..checkouts {
        let (stack, gate) = (stack.clone(), gate.clone());
        tasks.spawn(async move {
            let body = json!({"email": format!("buyer{i}@bench.example"), "product_id": "bronze",
                "provider": "nowpayments"});
            gate.wait().await;
            let t = Instant::now();
            let (status, answer) =
                call(stack.router(i), Method::POST, "/checkout", &[], body.to_string().into_bytes()).await?;
            Ok::<_, anyhow::Error>((kind(status, &answer), t.elapsed()))
        });
    }
    let before = stack.tally.snapshot();
    gate.wait().await;
    let started = Instant::now();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut latencies = Vec::with_capacity(checkouts);
    while let Some(r) = tasks.join_next().await {
        let (k, latency) = r??;
        *kinds.entry(k).or_default() += 1;
        latencies.push(latency);
    }
    let elapsed = started.elapsed();
    let spent = stack.tally.snapshot().since(&before);
    latencies.sort();
    let answers: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    println!(
        "{label}: {:.2} s, {:.0} checkouts/s; latency p50 {:.1} ms, p99 {:.1} ms; answers: {}",
        elapsed.as_secs_f64(),
        checkouts as f64 / elapsed.as_secs_f64(),
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 99.0),
        answers.join(", ")
    );
    println!("  {spent}");
    println!(
        // A loser fails on the counters' version or on the same version's
        // ledger entry, whichever the store checks first (moto: the ledger).
        "  version-lock retries (lost the stock book: counters' version or its ledger entry): {}, {:.2} per \
         checkout; transaction conflicts: {}",
        spent.stock_races,
        spent.stock_races as f64 / checkouts as f64,
        spent.conflicts
    );
    verify(&stack, checkouts, files, &kinds, &spent, &label, failed).await?;
    Ok(elapsed)
}

async fn open(plan: &Plan, instances: usize, files: usize) -> anyhow::Result<Stack> {
    #[cfg(feature = "aws")]
    if plan.aws {
        return Stack::open_aws(instances, files).await;
    }
    let _ = plan;
    Stack::open(instances, files).await
}

/// Winners, holds and counters agree with the stock; every loser got the
/// out-of-stock refusal; the invariant checker and reconcile find nothing.
async fn verify(
    stack: &Stack,
    checkouts: usize,
    files: usize,
    kinds: &BTreeMap<String, usize>,
    spent: &Snapshot,
    label: &str,
    failed: &mut Vec<String>,
) -> anyhow::Result<()> {
    let ctx = stack.ctx();
    let expected = files.min(checkouts);
    let winners = kinds.get("201").copied().unwrap_or(0);
    let refused = kinds.get("409 insufficient-stock").copied().unwrap_or(0);
    let holds = open_holds(ctx).await?;
    let counts = stock::read_counts(ctx).await?.counts;
    let report = invariants::check(ctx).await?;
    let rec = reconcile::run(ctx, "bench").await.all_ok()?;
    println!(
        "  check: winners {winners}, holds {holds}, counters reserved {} unused {} available {}; refused \
         insufficient-stock {refused}; invariants {} violation(s) (settled {}); reconcile repairs {}, invariants {}",
        counts.reserved,
        counts.unused,
        counts.available(),
        report.violations.len() + report.more as usize,
        report.settled,
        rec.repairs(),
        rec.invariants.violations.len() + rec.invariants.more as usize
    );
    let mut check = |ok: bool, what: String| {
        if !ok {
            failed.push(format!("{label}: {what}"));
        }
    };
    check(winners == expected, format!("{winners} winners, expected {expected}"));
    check(refused == checkouts - expected, format!("{refused} insufficient-stock refusals"));
    check(holds == winners, format!("{holds} holds for {winners} winners"));
    check(counts.reserved == winners as i64, format!("counters reserve {}", counts.reserved));
    check(counts.unused == files as i64, format!("counters say {} unused", counts.unused));
    check(report.ok() && report.settled, format!("invariants: {:?}", report.violations));
    check(rec.repairs() == 0 && rec.invariants.ok(), format!("reconcile repaired {}", rec.repairs()));
    check(spent.other_conditions == 0, format!("{} unexpected failed conditions", spent.other_conditions));
    Ok(())
}
