//! Model-based concurrency runs: seeded random schedules of checkouts,
//! webhook deliveries (duplicated, concurrent, any order), expiry and
//! reconcile runs, refunds, restocks, bans and clock jumps against a fresh
//! stack each, then drain, reconcile and demand that the invariant checker
//! finds nothing. A library so the bench's long mode can call it.

mod apply;
mod dump;
mod schedule;
mod settle;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::spawn_app_in;
pub use schedule::{Op, Payment, Schedule, generate};
pub use settle::Outcomes;

/// What to run: schedule `i` is generated from `seed + i`, so one failing
/// schedule replays alone; `jobs` schedules run at once.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub seed: u64,
    pub schedules: usize,
    pub ops: usize,
    pub jobs: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub schedules: usize,
    pub ops: usize,
    /// Final order statuses summed over the schedules (what they did).
    pub outcomes: Outcomes,
    pub elapsed: Duration,
}

/// A schedule that broke something, with what it takes to replay it.
pub struct Failure {
    pub seed: u64,
    pub index: usize,
    pub schedule: Schedule,
    pub why: String,
}

impl Failure {
    /// The seed that replays this schedule as a run of one.
    pub fn replay_seed(&self) -> u64 {
        self.seed.wrapping_add(self.index as u64)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed {} schedule {}: {}\nschedule: {:#?}", self.seed, self.index, self.why, self.schedule)
    }
}

pub fn schedule(seed: u64, index: usize, ops: usize) -> Schedule {
    generate(&mut StdRng::seed_from_u64(seed.wrapping_add(index as u64)), ops)
}

/// Runs the plan's schedules one at a time.
pub async fn run(seed: u64, schedules: usize, ops: usize) -> Result<Figures, Failure> {
    run_with(Plan { seed, schedules, ops, jobs: 1 }, |_| {}).await
}

/// Runs the plan, calling `progress` after each schedule, and stops at the
/// first schedule that fails (the others in flight are dropped).
pub async fn run_with(plan: Plan, mut progress: impl FnMut(&Figures)) -> Result<Figures, Failure> {
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut running = tokio::task::JoinSet::new();
    let mut indexes = HashMap::new();
    let mut next = 0;
    loop {
        while next < plan.schedules && running.len() < plan.jobs.max(1) {
            let (index, s) = (next, schedule(plan.seed, next, plan.ops));
            // Boxed: with the AWS adapters compiled in, the unboxed future
            // nests deeper than the compiler's layout limit.
            let task = running.spawn(Box::pin(run_one(s)));
            indexes.insert(task.id(), index);
            next += 1;
        }
        let Some(done) = running.join_next_with_id().await else { break };
        let (id, result) = match done {
            Ok((id, result)) => (id, result),
            Err(e) => (e.id(), Err(format!("it panicked: {e}"))),
        };
        let index = indexes.remove(&id).unwrap_or(usize::MAX);
        match result {
            Ok((ops, outcomes)) => {
                figures.schedules += 1;
                figures.ops += ops;
                figures.outcomes.add(&outcomes);
                figures.elapsed = started.elapsed();
                progress(&figures);
            }
            Err(why) => {
                let schedule = schedule(plan.seed, index, plan.ops);
                return Err(Failure { seed: plan.seed, index, schedule, why });
            }
        }
    }
    figures.elapsed = started.elapsed();
    Ok(figures)
}

/// One schedule on a fresh stack: (ops run, final order statuses).
pub async fn run_one(schedule: Schedule) -> Result<(usize, Outcomes), String> {
    let app = Arc::new(spawn_app_in(&scratch()).await);
    let state = Arc::new(Mutex::new(apply::State::default()));
    for step in &schedule {
        let mut tasks = tokio::task::JoinSet::new();
        for op in step.clone() {
            let (app, state) = (app.clone(), state.clone());
            tasks.spawn(async move { apply::apply(&app, &state, &op).await.map_err(|e| format!("{op:?}: {e}")) });
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| format!("an op panicked: {e}"))??;
        }
    }
    settle::settle(&app).await?;
    Ok((schedule.iter().map(Vec::len).sum(), Outcomes::of(&app).await?))
}

/// Where the stacks' data goes: tmpfs when there is one. The runs are about
/// concurrency, not power loss, and an fsync per commit on a disk tripled
/// a schedule's time; the code paths are the same.
fn scratch() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() { shm } else { std::env::temp_dir() }
}
