//! Creating the bucket for emulators and first runs (in AWS, SAM creates it).

use anyhow::bail;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

pub async fn create_bucket_if_missing(client: &Client, name: &str) -> anyhow::Result<()> {
    match client.head_bucket().bucket(name).send().await {
        Ok(_) => return Ok(()),
        Err(e) if matches!(e.as_service_error(), Some(HeadBucketError::NotFound(_))) => {}
        Err(e) => bail!("HeadBucket {name}: {}", DisplayErrorContext(&e)),
    }
    let region = client.config().region().map(|r| r.as_ref().to_string()).unwrap_or_default();
    // us-east-1 is the one region that refuses a location constraint.
    let location = (!region.is_empty() && region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region.as_str()))
            .build()
    });
    match client.create_bucket().bucket(name).set_create_bucket_configuration(location).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(e) => bail!("CreateBucket {name}: {}", DisplayErrorContext(&e)),
    }
}
