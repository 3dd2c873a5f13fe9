//! The AWS stack of `bench purchase` (needs an emulator: AWS_ENDPOINT_URL):
//! a fresh table, bucket and queues per purchase, counted by the adapters.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use shared::adapters::aws::{AwsBackend, AwsConfig, RequestCounter, connect};
use shared::adapters::sandbox::SandboxGateway;
use shared::app::{self, Ports};
use shared::config::{Config, Place};

use super::{Meter, Stack};

pub fn endpoint() -> anyhow::Result<String> {
    std::env::var("AWS_ENDPOINT_URL").context("bench purchase needs AWS_ENDPOINT_URL (scripts/moto.sh start)")
}

impl Meter for RequestCounter {
    fn reset(&self) {
        RequestCounter::reset(self);
    }

    fn read(&self) -> [u64; 3] {
        let snap: BTreeMap<String, u64> = self.snapshot();
        let sum = |prefix: &str| snap.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| *v).sum();
        [sum("dynamodb."), sum("s3."), sum("sqs.")]
    }
}

/// The AWS adapters on a fresh table, bucket and queues of the emulator.
pub async fn fresh() -> anyhow::Result<AwsBackend> {
    endpoint()?;
    let name = format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let vars = [
        ("STOCKROOM_TABLE", name.clone()),
        ("STOCKROOM_BUCKET", name.clone()),
        ("STOCKROOM_QUEUE_NAME", name),
        ("STOCKROOM_CREATE_RESOURCES", "1".into()),
    ];
    let aws_cfg = AwsConfig::from_lookup(|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).or_else(|| std::env::var(k).ok())
    })?;
    connect(&aws_cfg).await
}

pub async fn stack() -> anyhow::Result<Stack> {
    let b = fresh().await?;
    let counter = b.counter.clone();
    let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ports = Ports { records: b.records, files: b.files, fulfil_queue: b.fulfil, events: b.events };
    let state =
        app::state(&cfg, ports, Arc::new(SandboxGateway { public_url: cfg.server.public_url.clone() }), app::clock());
    Ok(Stack { ctx: state.ctx, meter: Box::new(counter), _keep: None })
}
