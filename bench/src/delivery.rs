//! `bench delivery [N] [GAP_MS]`: the time from an event's commit to its
//! merchant webhook reaching a receiver, on the local stack as `cargo run`
//! starts it (embedded backend, its dispatcher task: the outbox polled
//! every 100 ms when idle, due webhook attempts sent about once a second).
//! N `stock.low` events are committed one by one (`events::notify`, its own
//! transaction), GAP_MS apart, to one endpoint on an in-process HTTP
//! receiver on 127.0.0.1; each is timed from the commit's return to the
//! receiver's handler, by the same monotonic clock. The receiver checks
//! every signature, so a figure is for a delivery a merchant would accept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use shared::domain::Timestamp;
use shared::services::events::{self, Event};
use shared::services::hooks::endpoints::{self, NewEndpoint};
use shared::services::hooks::sign;

#[derive(Default)]
struct Got {
    /// product id (the event's sequence number) -> when it arrived.
    at: Mutex<HashMap<String, Instant>>,
    secret: Mutex<String>,
    bad: Mutex<u32>,
}

async fn receive(State(got): State<Arc<Got>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let secret = got.secret.lock().map(|s| s.clone()).unwrap_or_default();
    let ts = Timestamp::system_now().secs();
    let ok = sign::verify(&secret, &h("webhook-id"), &h("webhook-timestamp"), &h("webhook-signature"), &body, ts);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    match (ok, v["data"]["product_id"].as_str()) {
        (Ok(_), Some(id)) => {
            if let Ok(mut at) = got.at.lock() {
                at.entry(id.to_string()).or_insert(now);
            }
        }
        _ => {
            if let Ok(mut bad) = got.bad.lock() {
                *bad += 1;
            }
        }
    }
    StatusCode::NO_CONTENT
}

pub async fn run(n: usize, gap_ms: u64) -> anyhow::Result<()> {
    let got = Arc::new(Got::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(got.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = tempfile::tempdir()?;
    let stack = local::start(local::test_config(dir.path())?).await.context("starting the local stack")?;
    let ctx = stack.state.ctx.clone();
    let created = endpoints::create(&ctx, &NewEndpoint { url, events: vec!["stock.low".into()] }, "bench").await?;
    *got.secret.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = created.secret.clone();

    let mut committed = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let id = format!("bench-{i:05}");
        events::notify(
            &ctx,
            Event::StockLow { product_id: id.clone(), available: 1, threshold: 2, days_of_cover: None },
        )
        .await;
        committed.push((id, Instant::now()));
        tokio::time::sleep(Duration::from_millis(gap_ms)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.at.lock().map(|a| a.len()).unwrap_or(0) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    stack.stop().await;

    let at = got.at.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let mut ms: Vec<f64> = committed
        .iter()
        .filter_map(|(id, t)| at.get(id).map(|r| r.saturating_duration_since(*t).as_secs_f64() * 1000.0))
        .collect();
    let bad = *got.bad.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    if ms.len() < n || bad > 0 {
        bail!("{} of {n} events received, {bad} requests failed verification", ms.len());
    }
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
    println!("delivery: {n} events, one every {gap_ms} ms, {:.1} s in all", wall.as_secs_f64());
    println!(
        "commit -> received (ms): min {:.1}  p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        ms[0],
        q(0.50),
        q(0.90),
        q(0.99),
        ms[ms.len() - 1]
    );
    Ok(())
}
