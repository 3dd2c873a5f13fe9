//! The benchmark stack on the AWS adapters (DynamoDB, S3, SQS of an
//! emulator at AWS_ENDPOINT_URL), on a fresh table, bucket and queues. The
//! instances share the SDK clients, as they would share nothing but the
//! service on Lambda; each has its own context and stock lock.

use std::sync::Arc;

use shared::app::Ports;
use shared::config::{Config, Place};

use super::Stack;
use crate::commits::{Tally, TallyQueue, TallyRecords};
use crate::purchase::aws::fresh;

impl Stack {
    pub async fn open_aws(instances: usize, stock: usize) -> anyhow::Result<Stack> {
        let b = fresh().await?;
        let cfg = Config::from_lookup(Place::Local, |_| None).map_err(|e| anyhow::anyhow!("config: {e:?}"))?;
        let tally = Arc::new(Tally::default());
        let ports = Ports {
            records: Arc::new(TallyRecords { inner: b.records, tally: tally.clone() }),
            files: b.files,
            fulfil_queue: Arc::new(TallyQueue { inner: b.fulfil, tally: tally.clone() }),
            events: Arc::new(TallyQueue { inner: b.events, tally: tally.clone() }),
        };
        Stack::assemble(&cfg, ports, tally, instances, stock, None, None).await
    }
}
