//! The embedded stack the HTTP benchmarks drive: one redb file and one file
//! tree in a temporary directory, served by the full axum router in-process
//! (`tower::ServiceExt::oneshot`, no sockets). Several instances may share
//! the storage, as Lambda instances share DynamoDB: each has its own context
//! and so its own in-process stock lock. With the `aws` feature the same
//! stack runs on the AWS adapters against an emulator (stack/aws.rs).

#[cfg(feature = "aws")]
pub mod aws;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use shared::adapters::embedded::{EmbeddedRecords, open_embedded};
use shared::app::{self, Ports};
use shared::config::{Config, Place};
use shared::http::error::PROBLEM_BASE;
use shared::http::{AppState, full_router};
use shared::ports::{Files, Index, Query};
use shared::services::{Ctx, catalog, keys, restock};
use tempfile::TempDir;
use tower::ServiceExt;

use crate::commits::{Tally, TallyQueue, TallyRecords};

pub struct Instance {
    pub router: Router,
    pub ctx: Arc<Ctx>,
}

pub struct Stack {
    /// The embedded store's directory and record store (None on AWS).
    pub dir: Option<TempDir>,
    pub records: Option<EmbeddedRecords>,
    pub instances: Vec<Instance>,
    pub tally: Arc<Tally>,
}

impl Stack {
    /// `instances` contexts over one embedded store holding `stock` new files
    /// (adopted as stock, as reconcile does at startup).
    pub async fn open(instances: usize, stock: usize) -> anyhow::Result<Stack> {
        let dir = tempfile::tempdir().context("temp dir")?;
        let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("config: {e:?}"))?;
        let clock = app::clock();
        let e = open_embedded(dir.path(), clock.clone())?;
        let tally = Arc::new(Tally::default());
        let records = e.records.clone();
        let ports = Ports {
            records: Arc::new(TallyRecords { inner: Arc::new(e.records), tally: tally.clone() }),
            files: Arc::new(e.files),
            fulfil_queue: Arc::new(TallyQueue { inner: Arc::new(e.fulfil), tally: tally.clone() }),
            events: Arc::new(TallyQueue { inner: Arc::new(e.events), tally: tally.clone() }),
        };
        Stack::assemble(&cfg, ports, tally, instances, stock, Some(dir), Some(records)).await
    }

    /// `instances` contexts over `ports`, seeded with the catalog and
    /// `stock` adopted files.
    pub async fn assemble(
        cfg: &Config,
        ports: Ports,
        tally: Arc<Tally>,
        instances: usize,
        stock: usize,
        dir: Option<TempDir>,
        records: Option<EmbeddedRecords>,
    ) -> anyhow::Result<Stack> {
        let clock = app::clock();
        let gateway = app::gateway(cfg)?;
        let instances: Vec<Instance> = (0..instances.max(1))
            .map(|_| {
                let state: AppState = app::state(cfg, ports.clone(), gateway.clone(), clock.clone());
                Instance { ctx: state.ctx.clone(), router: full_router(state) }
            })
            .collect();
        let ctx = instances[0].ctx.clone();
        catalog::seed(&ctx).await?;
        put_stock(ctx.files.as_ref(), stock).await?;
        let adopted = restock::adopt_new_files(&ctx, "bench").await?;
        if adopted.adopted != stock as u64 {
            bail!("adopted {} of {stock} stock files", adopted.adopted);
        }
        Ok(Stack { dir, records, instances, tally })
    }

    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.instances[0].ctx
    }

    /// The instance that serves request `i` (round robin).
    pub fn router(&self, i: usize) -> &Router {
        &self.instances[i % self.instances.len()].router
    }
}

async fn put_stock(files: &dyn Files, n: usize) -> anyhow::Result<()> {
    for i in 0..n {
        let name = format!("acct-{:08x}-{i:07}.session", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32);
        files.put(&format!("unused/{name}"), b"session".to_vec(), true).await?;
    }
    Ok(())
}

/// One request through the router: the status and the JSON body (Null when
/// there is none).
pub async fn call(
    router: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router.clone().oneshot(req.body(Body::from(body))?).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// A response's kind for tallies: `201`, or `409 insufficient-stock`.
pub fn kind(status: StatusCode, body: &Value) -> String {
    match body.get("type").and_then(Value::as_str) {
        Some(t) => format!("{} {}", status.as_u16(), t.strip_prefix(PROBLEM_BASE).unwrap_or(t)),
        None => status.as_u16().to_string(),
    }
}

/// How many holds are open (read from the holds index).
pub async fn open_holds(ctx: &Ctx) -> anyhow::Result<usize> {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = ctx.records.query(Query::new(Index::Gsi1, keys::HOLDS_INDEX).limit(1000).after(cursor)).await?;
        n += page.items.len();
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(n),
        }
    }
}

/// The p-th percentile (0..=100) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
