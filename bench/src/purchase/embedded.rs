//! The embedded stack of `bench purchase`: redb and a directory in a
//! temporary directory, behind the counting decorators.

use std::sync::Arc;

use anyhow::Context;
use shared::adapters::embedded::open_embedded;
use shared::adapters::sandbox::SandboxGateway;
use shared::app::{self, Ports};
use shared::config::{Config, Place};

use super::{Meter, Stack};
use crate::counting::{CountingFiles, CountingQueue, CountingRecords, Counts};

impl Meter for Arc<Counts> {
    fn reset(&self) {
        Counts::reset(self);
    }

    fn read(&self) -> [u64; 3] {
        [self.dynamodb(), self.s3(), self.sqs()]
    }
}

pub fn stack() -> anyhow::Result<Stack> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let clock = app::clock();
    let b = open_embedded(dir.path(), clock.clone())?;
    let counts = Arc::new(Counts::default());
    let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("config: {e:?}"))?;
    let ports = Ports {
        records: Arc::new(CountingRecords { inner: b.records, counts: counts.clone() }),
        files: Arc::new(CountingFiles { inner: b.files, counts: counts.clone() }),
        fulfil_queue: Arc::new(CountingQueue { inner: b.fulfil, counts: counts.clone() }),
        events: Arc::new(CountingQueue { inner: b.events, counts: counts.clone() }),
    };
    let state = app::state(&cfg, ports, Arc::new(SandboxGateway { public_url: cfg.server.public_url.clone() }), clock);
    Ok(Stack { ctx: state.ctx, meter: Box::new(counts), _keep: Some(dir) })
}
