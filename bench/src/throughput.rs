//! `bench throughput [N] [C]`: end-to-end orders per second on the embedded
//! backend, through the HTTP router: C buyers (default 16) each run
//! checkout -> signed NOWPayments IPN to /webhooks/nowpayments -> wait until
//! GET /orders/{id} says fulfilled, until N orders (default 2000) are done.
//! The fulfilment worker is the local stack's (`worker::drain_once`), woken
//! by a doorbell when a webhook was accepted instead of polling the queue,
//! since an empty receive is a commit too. Then, in the same run, the
//! backend's raw durable commit rate, for the ratio issue 7 asks about.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::adapters::embedded::WriterLoad;
use shared::config::LOCAL_NOWPAYMENTS_IPN_SECRET;
use shared::providers::nowpayments;
use shared::services::{Ctx, invariants, worker};
use tokio::sync::{mpsc, watch};

use crate::commits::Snapshot;
use crate::raw_commits;
use crate::stack::{Stack, call, percentile_ms};

/// How long a received message stays hidden; a retried one waits this long.
const VISIBILITY: Duration = Duration::from_secs(2);
/// Longest wait for one order before the run is called failed.
const ORDER_DEADLINE: Duration = Duration::from_secs(60);

pub async fn run(n: usize, concurrency: usize) -> anyhow::Result<()> {
    if n == 0 || concurrency == 0 {
        bail!("N and C must be at least 1");
    }
    // One order more: the first goes alone, to split its commits by step.
    let setup = Instant::now();
    let stack = Stack::open(1, n + 1).await?;
    let (Some(dir), Some(records)) = (&stack.dir, &stack.records) else { bail!("throughput needs the embedded stack") };
    let (ctx, router) = (stack.ctx().clone(), stack.router(0).clone());
    let (bell, rung) = mpsc::unbounded_channel();
    let (done_tx, done) = watch::channel(0u64);
    let worker = tokio::spawn(work(ctx.clone(), rung, done_tx));
    println!(
        "bench throughput: {n} orders of bronze (1 file), {concurrency} concurrent buyers, through the HTTP router \
         in-process; embedded backend in {}; setup {:.1} s",
        dir.path().display(),
        setup.elapsed().as_secs_f64()
    );

    let buyer = Buyer { router: router.clone(), bell: bell.clone(), done: done.clone() };
    let steps = buyer.buy_alone(&stack, 0).await?;
    println!("one order alone, durable commits by step: {steps}");

    let next = Arc::new(AtomicUsize::new(1));
    let before = stack.tally.snapshot();
    let load0 = records.writer_load();
    let (started, cpu0, wrote0) = (Instant::now(), crate::cpu_secs(), crate::written_bytes());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (buyer, next) = (Buyer { router: router.clone(), bell: bell.clone(), done: done.clone() }, next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i > n {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t = Instant::now();
                buyer.buy(i).await.with_context(|| format!("order {i}"))?;
                latencies.push(t.elapsed());
            }
        });
    }
    drop((bell, buyer));
    let mut latencies = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        latencies.extend(r??);
    }
    let (secs, cpu) = (started.elapsed().as_secs_f64(), crate::cpu_secs() - cpu0);
    let wrote = crate::written_bytes() - wrote0;
    let spent = stack.tally.snapshot().since(&before);
    let load = records.writer_load();
    worker.await?;
    latencies.sort();
    let orders_per_sec = n as f64 / secs;
    println!(
        "orders: {n} fulfilled in {secs:.2} s = {orders_per_sec:.1} orders/s; latency per order p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms",
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 99.0),
        percentile_ms(&latencies, 100.0)
    );
    println!("  {spent}");
    println!("  per order: {:.2} durable commits, {:.1} reads", per(spent.commits(), n), per(spent.reads, n));
    println!("  {}", spent.written_per(n));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  CPU: {cpu:.2} s (user + system) = {:.2} ms per order; {cores} cores used at {:.0}%, so CPU alone allows \
         about {:.0} orders/s",
        1000.0 * cpu / n as f64,
        100.0 * cpu / secs / cores as f64,
        n as f64 * cores as f64 / cpu.max(0.01)
    );

    println!("  {}", Writer { before: load0, after: load, secs, orders: n, wrote });

    let report = invariants::check(&ctx).await?;
    println!(
        "  invariants after the run: {} violation(s), settled {}",
        report.violations.len() + report.more as usize,
        report.settled
    );

    println!("  {}", crate::contents::report(&records.database())?);

    let rates = raw_commits::measure(&ctx, records.database(), dir.path()).await?;
    println!("{rates}");
    let ratio = orders_per_sec / rates.port_sequential;
    println!(
        "ratio orders/s / commits/s (Records port, one writer) = {ratio:.3} (issue 19 asks >= 0.2): an order costs the \
         time of {:.1} commits and makes {:.2}",
        1.0 / ratio,
        per(spent.commits(), n)
    );
    Ok(())
}

/// The embedded store's one writer over the orders: when it was busy most
/// of the run, it is what bounds orders/s.
struct Writer {
    before: WriterLoad,
    after: WriterLoad,
    secs: f64,
    orders: usize,
    /// Bytes written to the file meanwhile (pages, 4 KiB each).
    wrote: u64,
}

impl std::fmt::Display for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b) = (&self.after, &self.before);
        let commits = a.commits - b.commits;
        let busy = (a.busy - b.busy).as_secs_f64();
        let committing = (a.committing - b.committing).as_secs_f64();
        let each = |secs: f64| 1000.0 * secs / commits.max(1) as f64;
        write!(
            f,
            "the one writer: busy {busy:.2} s of {:.2} ({:.0}%); {commits} redb commits ({:.2} per order) of {:.1} \
             requests, {:.2} ms each, {:.2} ms of it the durable commit; {:.1} pages of 4 KiB written per commit",
            self.secs,
            100.0 * busy / self.secs,
            per(commits, self.orders),
            (a.requests - b.requests) as f64 / commits.max(1) as f64,
            each(busy),
            each(committing),
            self.wrote as f64 / 4096.0 / commits.max(1) as f64
        )
    }
}

fn per(x: u64, n: usize) -> f64 {
    x as f64 / n as f64
}

struct Buyer {
    router: Router,
    bell: mpsc::UnboundedSender<()>,
    done: watch::Receiver<u64>,
}

/// The commits of each step of one order.
struct Steps {
    checkout: Snapshot,
    webhook: Snapshot,
    fulfil: Snapshot,
}

impl std::fmt::Display for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = |s: &Snapshot| format!("{} ({} record, {} queue)", s.commits(), s.record_commits, s.queue_commits);
        write!(
            f,
            "checkout {}, webhook {}, fulfilment {}",
            step(&self.checkout),
            step(&self.webhook),
            step(&self.fulfil)
        )
    }
}

impl Buyer {
    async fn buy(&self, i: usize) -> anyhow::Result<()> {
        let order = self.checkout(i).await?;
        let mut done = self.done.clone();
        done.borrow_and_update();
        self.pay(&order).await?;
        self.wait_fulfilled(&order, &mut done).await
    }

    async fn buy_alone(&self, stack: &Stack, i: usize) -> anyhow::Result<Steps> {
        let t0 = stack.tally.snapshot();
        let order = self.checkout(i).await?;
        let t1 = stack.tally.snapshot();
        let mut done = self.done.clone();
        done.borrow_and_update();
        self.pay(&order).await?;
        let t2 = stack.tally.snapshot();
        self.wait_fulfilled(&order, &mut done).await?;
        let t3 = stack.tally.snapshot();
        Ok(Steps { checkout: t1.since(&t0), webhook: t2.since(&t1), fulfil: t3.since(&t2) })
    }

    async fn checkout(&self, i: usize) -> anyhow::Result<Value> {
        let body =
            json!({"email": format!("buyer{i}@bench.example"), "product_id": "bronze", "provider": "nowpayments"});
        let (status, order) = call(&self.router, Method::POST, "/checkout", &[], body.to_string().into_bytes()).await?;
        if status != StatusCode::CREATED {
            bail!("checkout answered {status}: {order}");
        }
        Ok(order)
    }

    /// Posts the IPN NOWPayments sends when the invoice is paid in full,
    /// signed over the exact bytes sent.
    async fn pay(&self, order: &Value) -> anyhow::Result<()> {
        let p = &order["payment"];
        let number =
            |v: &Value| -> anyhow::Result<Value> { Ok(serde_json::from_str(v.as_str().context("a decimal string")?)?) };
        let payment_id: u64 = p["payment_id"].as_str().context("payment_id")?.parse()?;
        let amount = number(&p["pay_amount"])?;
        let ipn = json!({
            "payment_id": payment_id, "parent_payment_id": null, "payment_status": "finished",
            "pay_address": p["pay_address"], "price_amount": amount, "price_currency": "usd",
            "pay_amount": amount, "actually_paid": amount, "pay_currency": p["pay_currency"],
            "order_id": order["order_id"], "order_description": "bronze", "purchase_id": payment_id.to_string(),
        });
        let raw = ipn.to_string().into_bytes();
        let sig = nowpayments::sign(LOCAL_NOWPAYMENTS_IPN_SECRET, &raw).map_err(|e| anyhow::anyhow!("sign: {e}"))?;
        let headers = [("x-nowpayments-sig", sig.as_str())];
        let (status, answer) = call(&self.router, Method::POST, "/webhooks/nowpayments", &headers, raw).await?;
        if status != StatusCode::OK {
            bail!("webhook answered {status}: {answer}");
        }
        self.bell.send(()).context("the worker stopped")?;
        Ok(())
    }

    /// Asks for the order each time the worker finishes a batch.
    async fn wait_fulfilled(&self, order: &Value, done: &mut watch::Receiver<u64>) -> anyhow::Result<()> {
        let id = order["order_id"].as_str().context("order_id")?;
        let auth = format!("Bearer {}", order["order_token"].as_str().context("order_token")?);
        let deadline = Instant::now() + ORDER_DEADLINE;
        while Instant::now() < deadline {
            // A timeout still looks: a retried message ends no batch we saw begin.
            let _ = tokio::time::timeout(Duration::from_millis(500), done.changed()).await;
            let path = format!("/orders/{id}");
            let (status, seen) =
                call(&self.router, Method::GET, &path, &[("authorization", &auth)], Vec::new()).await?;
            match seen["status"].as_str() {
                Some("fulfilled") => return Ok(()),
                Some("paid" | "confirming" | "pending") => {}
                _ => bail!("order {id}: {status} {seen}"),
            }
        }
        bail!("order {id} was not fulfilled within {ORDER_DEADLINE:?}")
    }
}

/// The fulfilment worker: on each doorbell (a webhook was accepted, so a
/// message is queued) drains the queue with the local stack's worker, and
/// tells the buyers each time a batch is done.
async fn work(ctx: Arc<Ctx>, mut rung: mpsc::UnboundedReceiver<()>, done: watch::Sender<u64>) {
    let mut waiting = 0usize;
    loop {
        match tokio::time::timeout(Duration::from_millis(500), rung.recv()).await {
            Ok(None) => return,
            Ok(Some(())) => waiting += 1,
            // Idle: look anyway (a retried message shows again after VISIBILITY).
            Err(_) => waiting = 1,
        }
        while rung.try_recv().is_ok() {
            waiting += 1;
        }
        while waiting > 0 {
            match worker::drain_once(&ctx, VISIBILITY).await {
                Ok(0) => waiting = 0,
                Ok(got) => {
                    waiting = waiting.saturating_sub(got);
                    done.send_modify(|n| *n += 1);
                }
                Err(e) => {
                    eprintln!("fulfilment queue: {e:?}");
                    waiting = 0;
                }
            }
        }
    }
}
