//! Cold start: config, AWS clients and the payment gateway, built once per
//! execution environment and reused by every invocation.

use anyhow::{Context, bail};

use crate::adapters::aws::{AwsConfig, connect};
use crate::app::{self, Ports};
use crate::config::{Backend, Config, Place};
use crate::http::AppState;
use crate::ports::Key;

/// Everything a function needs, from the environment: config, the AWS
/// backend and the payment gateway (`app::gateway`). `needs` names the
/// secrets this function must have (infra/README.md); any other secret is
/// random, so checks this function should never pass fail closed (a
/// provider call without the real key is refused by the provider).
pub async fn app_state(needs: &'static [&'static str]) -> anyhow::Result<AppState> {
    let state = async {
        let cfg = Config::from_env(Place::Lambda { needs })?;
        let ports = backend(&cfg).await?;
        let gateway = app::gateway(&cfg)?;
        Ok(app::state(&cfg, ports, gateway, app::clock()))
    }
    .await;
    if let Err(e) = &state {
        tracing::error!(error = ?e, "cold start failed");
    }
    state
}

/// The AWS backend (the template sets table, bucket and queue URLs), with
/// one DynamoDB round trip now so the first invocation finds the connection
/// open: init runs at full CPU, and is not on a caller's clock.
pub async fn backend(cfg: &Config) -> anyhow::Result<Ports> {
    if cfg.backend.kind != Backend::Aws {
        bail!("STOCKROOM_BACKEND must be aws on Lambda: the embedded backend needs a disk that lasts");
    }
    let aws = AwsConfig::from_env()?;
    let b = connect(&aws).await.context("connecting to DynamoDB, S3 and SQS")?;
    let ports = Ports { records: b.records, files: b.files, fulfil_queue: b.fulfil, events: b.events };
    if let Err(e) = ports.records.get(&Key::new("warm-up", "warm-up")).await {
        tracing::warn!(error = %e, "warming the DynamoDB connection failed");
    }
    Ok(ports)
}
