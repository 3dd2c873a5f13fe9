//! Model-based concurrency test: seeded random schedules against the real
//! HTTP stack, then the invariant checker. `STOCKROOM_MODEL_SCHEDULES`,
//! `STOCKROOM_MODEL_OPS`, `STOCKROOM_MODEL_SEED` and `STOCKROOM_MODEL_JOBS`
//! pick the run; a failure prints the seed that replays its schedule.
//! The long runs are `bench model` (10,000 schedules; 500 on the emulator).

use stockroom_tests::model::{self, Plan};
use stockroom_tests::on_aws;

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_schedules_keep_every_invariant() {
    // A schedule costs ~0.05 s embedded and several seconds on the emulator.
    let default = if on_aws() { 30 } else { 200 };
    let plan = Plan {
        seed: env("STOCKROOM_MODEL_SEED").unwrap_or_else(rand::random),
        schedules: env("STOCKROOM_MODEL_SCHEDULES").unwrap_or(default) as usize,
        ops: env("STOCKROOM_MODEL_OPS").unwrap_or(20) as usize,
        jobs: env("STOCKROOM_MODEL_JOBS").unwrap_or(4) as usize,
    };
    println!("model: seed {}, {} schedules of ~{} ops, {} at once", plan.seed, plan.schedules, plan.ops, plan.jobs);
    match model::run_with(plan, |_| {}).await {
        Ok(f) => {
            println!("model: {} schedules, {} ops in {:.1?}; orders: {}", f.schedules, f.ops, f.elapsed, f.outcomes);
            assert!(f.schedules == plan.schedules, "every schedule ran");
        }
        Err(fail) => {
            let (ops, one) = (plan.ops, fail.replay_seed());
            panic!("replay: STOCKROOM_MODEL_OPS={ops} STOCKROOM_MODEL_SEED={one} STOCKROOM_MODEL_SCHEDULES=1\n{fail:?}")
        }
    }
}
