//! The local stack: every HTTP route, the fulfilment worker and the scheduled
//! jobs in one process, on the embedded backend (or on AWS with
//! `STOCKROOM_BACKEND=aws`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shared::app;
use shared::config::{Backend, Config};
use shared::http::{AppState, full_router};
use shared::ports::PaymentGateway;
use shared::services::jobs::StepReport;
use shared::services::{Ctx, catalog, restock, schedule, worker};
use tokio::sync::watch;
use tokio::task::JoinSet;

mod backend;
pub mod cli;

/// A started stack. `stop` shuts it down and waits for every task, so the
/// data directory can be opened again (tests restart it this way).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// What tests and tools may set beyond the config.
#[derive(Default)]
pub struct Options {
    /// Another payment gateway (tests script one).
    pub gateway: Option<Arc<dyn PaymentGateway>>,
    /// AWS names and endpoint instead of the environment's.
    #[cfg(feature = "aws")]
    pub aws: Option<shared::adapters::aws::AwsConfig>,
}

pub async fn start(cfg: Config) -> anyhow::Result<Running> {
    start_with(cfg, Options::default()).await
}

pub async fn start_with(mut cfg: Config, options: Options) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.server.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", cfg.server.port))?;
    let addr = listener.local_addr()?;
    if cfg.server.port == 0 {
        cfg.server.public_url = format!("http://{addr}");
    }
    let clock = app::clock();
    let (ports, sweeper) = backend::open(&cfg, clock.clone(), &options).await?;
    let gateway: Arc<dyn PaymentGateway> = match options.gateway {
        Some(g) => g,
        None => app::gateway(&cfg)?,
    };
    let state = app::state(&cfg, ports, gateway, clock);
    let ctx = state.ctx.clone();
    catalog::seed(&ctx).await.context("seeding the catalog")?;
    shared::services::accounts::seed_configured(&ctx)
        .await
        .context("adding STOCKROOM_ADMIN_EMAIL as the first admin")?;
    let scan = restock::adopt_new_files(&ctx, "startup").await.context("scanning unused/ for new stock")?;
    tracing::info!(adopted = scan.adopted, scanned = scan.scanned, backend = ?cfg.backend.kind, "stock scanned");
    if scan.rejected > 0 {
        let pattern = cfg.stock_pattern.as_str();
        tracing::warn!(rejected = scan.rejected, keys = ?scan.rejected_keys, pattern, "files in unused/ that are not stock");
    }

    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let router = full_router(state.clone()).layer(axum::middleware::from_fn(shared::http::client_ip_from_socket));
    let mut on_stop = stopped.clone();
    tasks.spawn(async move {
        let shutdown = async move {
            let _ = on_stop.wait_for(|s| *s).await;
        };
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "http server stopped");
        }
    });
    tasks.spawn(work_queue(ctx.clone(), Duration::from_secs(cfg.jobs.fulfil_visibility_secs), stopped.clone()));
    tasks.spawn(dispatch_events(ctx.clone(), stopped.clone()));
    tasks.spawn(jobs(ctx, sweeper, Duration::from_secs(cfg.jobs.jobs_every_secs.max(1)), stopped));
    tracing::info!(%addr, data = %cfg.backend.data_dir.display(), "stockroom is up");
    Ok(Running { addr, state, stop, tasks })
}

/// The fulfilment worker: polls the queue, handles a batch, repeats.
async fn work_queue(ctx: Arc<Ctx>, visibility: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        let idle = match worker::drain_once(&ctx, visibility).await {
            Ok(0) => Duration::from_millis(100),
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::error!(error = ?e, "fulfilment queue unavailable");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(idle) => {}
        }
    }
}

/// The event dispatcher (DynamoDB Streams on AWS): hands on what the
/// outbox holds, a few times a second, and makes the merchant webhook
/// attempts and sends the mails that are due.
async fn dispatch_events(ctx: Arc<Ctx>, mut stopped: watch::Receiver<bool>) {
    let mut last_delivery = std::time::Instant::now();
    loop {
        // Merchant webhook attempts that are due, about once a second.
        if last_delivery.elapsed() >= Duration::from_secs(1) {
            last_delivery = std::time::Instant::now();
            if let Err(e) = shared::services::hooks::deliver_due(&ctx).await {
                tracing::error!(error = ?e, "webhook delivery failed; retrying");
            }
            if let Err(e) = shared::services::mail::send_due(&ctx).await {
                tracing::error!(error = ?e, "sending mail failed; retrying");
            }
        }
        let idle = match shared::services::dispatch::dispatch_pending(&ctx, 0).await {
            Ok(0) => Duration::from_millis(100),
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::error!(error = ?e, "event dispatch failed; retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(idle) => {}
        }
    }
}

/// The schedules (EventBridge on AWS) on a timer.
async fn jobs(ctx: Arc<Ctx>, sweeper: backend::Sweeper, every: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(every) => {}
        }
        let report = schedule::expire_job(&ctx).await;
        match report.failed_steps().as_slice() {
            [] => tracing::debug!(?report, "expiry job"),
            failed => tracing::error!(?failed, ?report, "expiry job: steps failed"),
        }
        match shared::services::credits::post_due(&ctx, "schedule:credits").await {
            Ok(report) => tracing::debug!(?report, "credits job"),
            Err(e) => tracing::error!(error = ?e, "credits job failed"),
        }
        let report = shared::services::reconcile::run(&ctx, "schedule:reconcile").await;
        if let failed @ [_, ..] = report.failed_steps().as_slice() {
            tracing::error!(?failed, ?report, "reconcile: steps failed");
        }
        sweeper.sweep(ctx.clock.now().secs()).await;
    }
}

pub use backend::Sweeper;

/// Config for a throwaway stack (tests, benchmarks): port 0, the given data
/// directory, sandbox payments, quick timers.
pub fn test_config(data_dir: &std::path::Path) -> anyhow::Result<Config> {
    let mut cfg = Config::from_lookup(shared::config::Place::Local, |_| None)?;
    cfg.server.port = 0;
    cfg.backend.data_dir = data_dir.to_path_buf();
    cfg.backend.kind = Backend::Embedded;
    cfg.jobs.fulfil_visibility_secs = 1;
    cfg.jobs.jobs_every_secs = 3600;
    Ok(cfg)
}
