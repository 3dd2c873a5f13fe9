//! The AWS backend: DynamoDB records, S3 files, SQS queues. `AWS_ENDPOINT_URL`
//! points every client at an emulator (moto server in tests).

mod config;
mod dynamo;
pub mod metrics;
mod s3;
mod sqs;

use std::sync::Arc;

use anyhow::Context;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;

pub use config::{AwsConfig, QueueRef};
pub use dynamo::{DynamoRecords, GSI1, create_table_if_missing};
pub use metrics::RequestCounter;
pub use s3::{S3Files, create_bucket_if_missing};
pub use sqs::{QueueUrls, SqsQueue, create_queues_if_missing};

/// SDK clients, built once per process.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    pub fn new(sdk: &SdkConfig, s3_path_style: bool) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk).force_path_style(s3_path_style).build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }
}

/// Every adapter of the backend, sharing one request counter.
#[derive(Clone, Debug)]
pub struct AwsBackend {
    pub records: Arc<DynamoRecords>,
    pub files: Arc<S3Files>,
    /// Paid orders waiting for stock (with a dead-letter queue).
    pub fulfil: Arc<SqsQueue>,
    /// Notifications, alerts, subscription.activated.
    pub events: Arc<SqsQueue>,
    pub counter: RequestCounter,
}

/// The SDK's HTTPS client: rustls on ring (see the workspace Cargo.toml).
/// Every SDK config must set it; there is no default client.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The SDK's standard configuration (credentials chain and the rest), with
/// the region and endpoint from `cfg`.
pub async fn sdk_config(cfg: &AwsConfig) -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(cfg.region.clone()))
        .http_client(https_client());
    let loader = match &cfg.endpoint_url {
        Some(url) => loader.endpoint_url(url),
        None => loader,
    };
    loader.load().await
}

pub async fn connect(cfg: &AwsConfig) -> anyhow::Result<AwsBackend> {
    let sdk = sdk_config(cfg).await;
    connect_with(cfg, AwsClients::new(&sdk, cfg.s3_path_style)).await
}

/// Builds the adapters on given clients; creates what is missing when
/// `cfg.create_resources`, else only looks up queues given by name.
pub async fn connect_with(cfg: &AwsConfig, clients: AwsClients) -> anyhow::Result<AwsBackend> {
    let counter = RequestCounter::new();
    if cfg.create_resources {
        create_table_if_missing(&clients.dynamodb, &cfg.table).await.context("creating the table")?;
        create_bucket_if_missing(&clients.s3, &cfg.bucket).await.context("creating the bucket")?;
    }
    let fulfil = queue(&clients.sqs, &cfg.fulfil_queue, cfg.create_resources, &counter).await?;
    let events = queue(&clients.sqs, &cfg.events_queue, cfg.create_resources, &counter).await?;
    Ok(AwsBackend {
        records: Arc::new(DynamoRecords::new(clients.dynamodb, &cfg.table, counter.clone())),
        files: Arc::new(S3Files::new(clients.s3, &cfg.bucket, counter.clone())),
        fulfil: Arc::new(fulfil),
        events: Arc::new(events),
        counter,
    })
}

async fn queue(
    client: &aws_sdk_sqs::Client,
    queue: &QueueRef,
    create: bool,
    counter: &RequestCounter,
) -> anyhow::Result<SqsQueue> {
    let name = queue.name();
    if create {
        let urls = create_queues_if_missing(client, name).await.with_context(|| format!("creating queue {name}"))?;
        return Ok(SqsQueue::with_dead_letter_queue(client.clone(), urls, counter.clone()));
    }
    let url = match queue {
        QueueRef::Url(url) => url.clone(),
        QueueRef::Name(name) => sqs::queue_url(client, name).await?,
    };
    Ok(SqsQueue::new(client.clone(), url, counter.clone()))
}
