//! `bench model [SCHEDULES] [SEED]`: the long mode of the model-based test
//! (tests/support/model): SCHEDULES random schedules (10,000 by default;
//! 500 on the emulator) with the invariant checker after each. Stops at the
//! first violation and prints the seed that replays it.
//!
//! Env: STOCKROOM_MODEL_JOBS (schedules at once, default 4),
//! STOCKROOM_MODEL_OPS (ops per schedule, default 20), STOCKROOM_MODEL_DUMP
//! (a directory: a failing schedule's ledger, orders, intents, file records
//! and storage keys are written there, to read the race). On the AWS emulator
//! (bench built with its default `aws` feature):
//!   STOCKROOM_TEST_BACKEND=aws AWS_ENDPOINT_URL=http://127.0.0.1:5000 \
//!   AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   cargo run --profile perf -p bench -- model 500

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use stockroom_tests::model::{self, Figures, Plan};

pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let backend = backend()?;
    let default = if backend == "embedded" { 10_000 } else { 500 };
    let schedules = match args.first() {
        Some(n) => n.parse().context("SCHEDULES must be a whole number")?,
        None => default,
    };
    let seed = match args.get(1) {
        Some(s) => s.parse().context("SEED must be a whole number")?,
        None => SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    };
    let plan = Plan { seed, schedules, ops: env("STOCKROOM_MODEL_OPS", 20), jobs: env("STOCKROOM_MODEL_JOBS", 4) };
    println!(
        "bench model: {backend} backend, seed {seed}, {schedules} schedules of ~{} ops, {} at once",
        plan.ops, plan.jobs
    );
    let every = (schedules / 20).clamp(1, 500);
    let result = model::run_with(plan, |f| {
        if f.schedules % every == 0 {
            println!("  {} schedules, {} ops, {:.0} s, {:.1} schedules/s", f.schedules, f.ops, secs(f), rate(f));
        }
    })
    .await;
    match result {
        Ok(f) => {
            println!(
                "bench model: {} schedules, {} ops, 0 violations, {:.1} s, {:.1} schedules/s",
                f.schedules,
                f.ops,
                secs(&f),
                rate(&f)
            );
            println!("  orders: {}", f.outcomes);
            Ok(())
        }
        Err(fail) => {
            println!("bench model: VIOLATION in schedule {} of seed {seed}: {}", fail.index, fail.why);
            let (ops, one) = (plan.ops, fail.replay_seed());
            println!(
                "  replay it alone (a race may take several tries): STOCKROOM_MODEL_OPS={ops} bench model 1 {one}"
            );
            println!(
                "  or: STOCKROOM_MODEL_OPS={ops} STOCKROOM_MODEL_SEED={one} STOCKROOM_MODEL_SCHEDULES=1 cargo test -p stockroom-tests --test model"
            );
            println!("{fail:?}");
            bail!("the model run found a violation")
        }
    }
}

fn backend() -> anyhow::Result<&'static str> {
    if !stockroom_tests::on_aws() {
        return Ok("embedded");
    }
    if cfg!(feature = "aws") {
        Ok("aws (emulator at AWS_ENDPOINT_URL)")
    } else {
        bail!("STOCKROOM_TEST_BACKEND=aws needs bench built with its aws feature")
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn secs(f: &Figures) -> f64 {
    f.elapsed.as_secs_f64()
}

fn rate(f: &Figures) -> f64 {
    f.schedules as f64 / secs(f).max(1e-9)
}
