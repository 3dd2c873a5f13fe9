//! Opens the configured backend.

use std::sync::Arc;

use shared::adapters::embedded::{EmbeddedRecords, open_embedded};
use shared::app::Ports;
use shared::config::{Backend, Config};
use shared::ports::clock::OffsetClock;

/// Garbage collection of expired records (TTL). DynamoDB does it itself.
pub enum Sweeper {
    Embedded(EmbeddedRecords),
    None,
}

impl Sweeper {
    pub async fn sweep(&self, now_secs: i64) {
        if let Sweeper::Embedded(r) = self
            && let Err(e) = r.sweep_expired(now_secs).await
        {
            tracing::warn!(error = %e, "ttl sweep failed");
        }
    }
}

pub async fn open(cfg: &Config, clock: Arc<OffsetClock>, options: &crate::Options) -> anyhow::Result<(Ports, Sweeper)> {
    match cfg.backend.kind {
        Backend::Embedded => {
            let dir = cfg.backend.data_dir.clone();
            let e = tokio::task::spawn_blocking(move || open_embedded(&dir, clock)).await??;
            let ports = Ports {
                records: Arc::new(e.records.clone()),
                files: Arc::new(e.files),
                fulfil_queue: Arc::new(e.fulfil),
                events: Arc::new(e.events),
            };
            Ok((ports, Sweeper::Embedded(e.records)))
        }
        Backend::Aws => aws(options).await,
    }
}

#[cfg(feature = "aws")]
async fn aws(options: &crate::Options) -> anyhow::Result<(Ports, Sweeper)> {
    use shared::adapters::aws::{AwsConfig, connect};
    let aws_cfg = match &options.aws {
        Some(c) => c.clone(),
        None => AwsConfig::from_env()?,
    };
    let b = connect(&aws_cfg).await?;
    let ports = Ports { records: b.records, files: b.files, fulfil_queue: b.fulfil, events: b.events };
    Ok((ports, Sweeper::None))
}

#[cfg(not(feature = "aws"))]
async fn aws(_options: &crate::Options) -> anyhow::Result<(Ports, Sweeper)> {
    anyhow::bail!("STOCKROOM_BACKEND=aws needs the `aws` feature of the local crate (on by default)")
}

/// Only the stock file store (for `upload`: it must not open the database,
/// which the running stack holds).
pub async fn files(cfg: &Config) -> anyhow::Result<Arc<dyn shared::ports::Files>> {
    match cfg.backend.kind {
        Backend::Embedded => {
            let root = cfg.backend.data_dir.join(shared::adapters::embedded::FILES_DIR);
            Ok(Arc::new(shared::adapters::embedded::DirFiles::open(root)?))
        }
        Backend::Aws => Ok(aws(&crate::Options::default()).await?.0.files),
    }
}
