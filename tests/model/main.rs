//! Model-based concurrency test: seeded random schedules against the real
//! HTTP stack, then the invariant checker. `STOCKROOM_MODEL_SCHEDULES`,
//! `STOCKROOM_MODEL_OPS` and `STOCKROOM_MODEL_SEED` pick the run; a failure
//! prints the seed and schedule index to replay it.

use stockroom_tests::model;

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_schedules_keep_every_invariant() {
    let seed = env("STOCKROOM_MODEL_SEED").unwrap_or_else(rand::random);
    let schedules = env("STOCKROOM_MODEL_SCHEDULES").unwrap_or(30) as usize;
    let ops = env("STOCKROOM_MODEL_OPS").unwrap_or(20) as usize;
    println!("model: seed {seed}, {schedules} schedules of ~{ops} ops");
    match model::run(seed, schedules, ops).await {
        Ok(f) => println!(
            "model: {} schedules, {} ops, {} orders fulfilled, {} refunded, in {:.1?}",
            f.schedules, f.ops, f.fulfilled, f.refunded, f.elapsed
        ),
        Err(fail) => {
            let one = fail.seed.wrapping_add(fail.index as u64);
            panic!("replay: STOCKROOM_MODEL_SEED={one} STOCKROOM_MODEL_SCHEDULES=1\n{fail:?}")
        }
    }
}
