//! Model-based concurrency runs: seeded random schedules of checkouts,
//! webhook deliveries (duplicated, concurrent, any order), expiry and
//! reconcile runs, refunds, restocks, bans and clock jumps against a fresh
//! stack each, then drain, reconcile and demand that the invariant checker
//! finds nothing. A library function so the bench's long mode can call it.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shared::domain::OrderStatus;
use shared::ports::{Index, Query};
use shared::services::keys;

use crate::{TestApp, s, spawn_app};

#[derive(Clone, Debug)]
pub enum Op {
    Restock(usize),
    Checkout {
        email: usize,
        product: &'static str,
        provider: &'static str,
    },
    /// The same webhook `copies` times at once; the order by position.
    Pay {
        order: usize,
        status: &'static str,
        copies: usize,
    },
    Expire,
    Reconcile,
    Refund {
        order: usize,
    },
    Adjust {
        action: &'static str,
        file: usize,
    },
    Clock(u64),
}

/// Ops in one step run at once; steps run one after the other.
pub type Schedule = Vec<Vec<Op>>;

pub fn generate(rng: &mut StdRng, ops: usize) -> Schedule {
    let mut steps = vec![vec![Op::Restock(rng.random_range(2..8))]];
    let mut left = ops.saturating_sub(1);
    while left > 0 {
        let width = rng.random_range(1..=3).min(left);
        steps.push((0..width).map(|_| op(rng)).collect());
        left -= width;
    }
    steps
}

fn op(rng: &mut StdRng) -> Op {
    let pick = |rng: &mut StdRng, from: &[&'static str]| from[rng.random_range(0..from.len())];
    match rng.random_range(0..100) {
        0..25 => Op::Checkout {
            email: rng.random_range(0..3),
            product: pick(rng, &["bronze", "silver", "gold"]),
            provider: pick(rng, &["nowpayments", "stripe"]),
        },
        25..55 => Op::Pay {
            order: rng.random_range(0..3),
            status: pick(rng, &["paid", "paid", "paid", "paid", "paid", "expired", "failed", "refunded"]),
            copies: rng.random_range(1..4),
        },
        55..62 => Op::Expire,
        62..70 => Op::Reconcile,
        70..76 => Op::Refund { order: rng.random_range(0..8) },
        76..84 => Op::Restock(rng.random_range(1..4)),
        84..92 => Op::Adjust { action: pick(rng, &["ban", "freeze", "unfreeze"]), file: rng.random_range(0..16) },
        _ => Op::Clock(*[60, 900, 3600, 26 * 3600, 31 * 86400].get(rng.random_range(0..5)).unwrap_or(&60)),
    }
}

#[derive(Debug)]
pub struct Figures {
    pub schedules: usize,
    pub ops: usize,
    /// Orders fulfilled and refunded across all schedules (it did something).
    pub fulfilled: usize,
    pub refunded: usize,
    pub elapsed: Duration,
}

/// A schedule that broke something, with what it takes to replay it.
pub struct Failure {
    pub seed: u64,
    pub index: usize,
    pub schedule: Schedule,
    pub why: String,
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed {} schedule {}: {}\nschedule: {:#?}", self.seed, self.index, self.why, self.schedule)
    }
}

/// Runs `schedules` schedules of about `ops` ops each; schedule `i` is
/// generated from `seed + i`, so one failing schedule replays alone.
pub async fn run(seed: u64, schedules: usize, ops: usize) -> Result<Figures, Failure> {
    let started = Instant::now();
    let (mut total, mut fulfilled, mut refunded) = (0, 0, 0);
    for index in 0..schedules {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(index as u64));
        let schedule = generate(&mut rng, ops);
        total += schedule.iter().map(Vec::len).sum::<usize>();
        // Boxed: with the AWS adapters compiled in, the unboxed future nests
        // deeper than the compiler's layout limit.
        match Box::pin(run_one(&schedule)).await {
            Ok((f, r)) => (fulfilled, refunded) = (fulfilled + f, refunded + r),
            Err(why) => return Err(Failure { seed, index, schedule, why }),
        }
    }
    Ok(Figures { schedules, ops: total, fulfilled, refunded, elapsed: started.elapsed() })
}

#[derive(Default)]
struct State {
    orders: Vec<String>,
    files: Vec<String>,
}

/// One schedule on a fresh stack: (orders fulfilled, orders refunded).
pub async fn run_one(schedule: &Schedule) -> Result<(usize, usize), String> {
    let app = Arc::new(spawn_app().await);
    let state = Arc::new(Mutex::new(State::default()));
    for step in schedule {
        let mut tasks = tokio::task::JoinSet::new();
        for op in step.clone() {
            let (app, state) = (app.clone(), state.clone());
            tasks.spawn(async move { apply(&app, &state, &op).await.map_err(|e| format!("{op:?}: {e}")) });
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| format!("an op panicked: {e}"))??;
        }
    }
    settle(&app).await?;
    let fulfilled = count(&app, Index::Gsi1, &keys::orders_by_status(OrderStatus::Fulfilled)).await?;
    Ok((fulfilled, count(&app, Index::Gsi1, &keys::orders_by_status(OrderStatus::Refunded)).await?))
}

async fn apply(app: &TestApp, state: &Mutex<State>, op: &Op) -> Result<(), String> {
    let nth = |list: fn(&State) -> &Vec<String>, i: usize| {
        let st = state.lock().unwrap_or_else(|p| p.into_inner());
        let l = list(&st);
        // Newest first: most ops are about recent orders and files.
        (!l.is_empty()).then(|| l[l.len() - 1 - i % l.len()].clone())
    };
    let r = match op {
        Op::Restock(n) => {
            let names = app.add_stock(*n).await;
            state.lock().unwrap_or_else(|p| p.into_inner()).files.extend(names);
            return Ok(());
        }
        Op::Checkout { email, product, provider } => {
            let body =
                json!({"email": format!("buyer{email}@example.com"), "product_id": product, "provider": provider});
            let r = app.post("/checkout", body).await;
            if r.status() == 201 {
                let v: Value = r.json().await.map_err(|e| e.to_string())?;
                state.lock().unwrap_or_else(|p| p.into_inner()).orders.push(s(&v["order_id"]));
                return Ok(());
            }
            r
        }
        Op::Pay { order, status, copies } => {
            let Some(id) = nth(|s| &s.orders, *order) else { return Ok(()) };
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..*copies {
                let (url, client, status) = (format!("{}/sandbox/pay/{id}", app.url), app.client.clone(), *status);
                tasks.spawn(async move { client.post(url).json(&json!({"status": status})).send().await });
            }
            while let Some(r) = tasks.join_next().await {
                let r = r.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
                check(r).await?;
            }
            return Ok(());
        }
        Op::Expire => app.post_admin("/admin/expire", json!({})).await,
        Op::Reconcile => app.post_admin("/admin/reconcile", json!({})).await,
        Op::Refund { order } => {
            let Some(id) = nth(|s| &s.orders, *order) else { return Ok(()) };
            app.post_admin(&format!("/admin/orders/{id}/refund"), json!({})).await
        }
        Op::Adjust { action, file } => {
            let Some(name) = nth(|s| &s.files, *file) else { return Ok(()) };
            let body = json!({"action": action, "files": [name], "reason": "model test"});
            app.post_admin("/admin/stock/adjust", body).await
        }
        Op::Clock(secs) => app.post("/sandbox/clock", json!({"advance_seconds": secs})).await,
    };
    check(r).await
}

/// Refusals (4xx) are fine; a server error is a bug.
async fn check(r: reqwest::Response) -> Result<(), String> {
    if r.status().is_server_error() {
        return Err(format!("{}: {}", r.status(), r.text().await.unwrap_or_default()));
    }
    Ok(())
}

/// Waits for the worker, lets stale work go stale, reconciles, and asks the
/// checker (through reconcile's report) whether every invariant holds.
async fn settle(app: &TestApp) -> Result<(), String> {
    let mut last = Value::Null;
    for round in 0..4 {
        drained(app).await?;
        if round > 0 {
            // Stale intents get finished and lost paid orders requeued.
            app.post("/sandbox/clock", json!({"advance_seconds": 600})).await;
        }
        let r = app.post_admin("/admin/reconcile", json!({})).await;
        let status = r.status();
        last = r.json().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("reconcile answered {status}: {last}"));
        }
        drained(app).await?;
        let inv = &last["invariants"];
        let clean = inv["violations"].as_array().is_some_and(Vec::is_empty);
        let quiet = inv["in_flight"].as_array().is_some_and(Vec::is_empty);
        if clean && quiet && inv["settled"] == true {
            return Ok(());
        }
    }
    Err(format!("invariants after reconcile: {}", last["invariants"]))
}

/// Until no order is paid but unfulfilled and no intent is open (bounded).
async fn drained(app: &TestApp) -> Result<(), String> {
    for _ in 0..200 {
        let paid = count(app, Index::Gsi1, &keys::orders_by_status(OrderStatus::Paid)).await?;
        let intents = count(app, Index::Gsi1, keys::INTENTS_INDEX).await?;
        if paid + intents == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok(())
}

async fn count(app: &TestApp, index: Index, pk: &str) -> Result<usize, String> {
    let page = app.ctx().records.query(Query::new(index, pk).limit(1000)).await.map_err(|e| e.to_string())?;
    Ok(page.items.len())
}
