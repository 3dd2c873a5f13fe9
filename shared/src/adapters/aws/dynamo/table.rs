//! Creating the table for emulators and first runs (in AWS, SAM creates it).

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use crate::ports::records::{GSI1PK, GSI1SK, PK, SK, TTL};

/// The secondary index's name.
pub const GSI1: &str = "gsi1";

const WAIT_STEP: Duration = Duration::from_millis(200);
const WAIT_STEPS: u32 = 600;

/// Creates the table (pay per request, index `gsi1`, TTL on `ttl`) unless it
/// exists, then waits until it and its index are ACTIVE.
pub async fn create_table_if_missing(client: &Client, name: &str) -> anyhow::Result<()> {
    if !exists(client, name).await? {
        create(client, name).await?;
    }
    wait_active(client, name).await
}

async fn exists(client: &Client, name: &str) -> anyhow::Result<bool> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => bail!("DescribeTable {name}: {}", DisplayErrorContext(&e)),
    }
}

async fn create(client: &Client, name: &str) -> anyhow::Result<()> {
    let attr =
        |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
    let gsi = GlobalSecondaryIndex::builder()
        .index_name(GSI1)
        .key_schema(key(GSI1PK, KeyType::Hash)?)
        .key_schema(key(GSI1SK, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .attribute_definitions(attr(GSI1PK)?)
        .attribute_definitions(attr(GSI1SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(gsi)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Someone else created it meanwhile: theirs will do.
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => bail!("CreateTable {name}: {}", DisplayErrorContext(&e)),
    }
    wait_active(client, name).await?;
    let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL).build()?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("UpdateTimeToLive {name}: {}", DisplayErrorContext(&e)))?;
    Ok(())
}

async fn wait_active(client: &Client, name: &str) -> anyhow::Result<()> {
    for _ in 0..WAIT_STEPS {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("DescribeTable {name}: {}", DisplayErrorContext(&e)))?;
        let table = out.table.context("DescribeTable returned no table")?;
        // Emulators may leave the index status out; that counts as ready.
        let indexes_active =
            table.global_secondary_indexes().iter().all(|i| i.index_status().is_none_or(|s| s == &IndexStatus::Active));
        if table.table_status() == Some(&TableStatus::Active) && indexes_active {
            return Ok(());
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
    bail!("table {name} not ACTIVE after {:?}", WAIT_STEP * WAIT_STEPS)
}
