//! Which backend the suites run on: embedded by default, the AWS emulator
//! with `STOCKROOM_TEST_BACKEND=aws` (and the `aws` feature). On AWS each
//! stack gets its own table, bucket and queues, named after its data dir, so
//! a restart finds the same data and tests never see each other's.

use std::sync::Arc;

use local::Options;
use shared::config::Config;
use shared::ports::PaymentGateway;
use tempfile::TempDir;

/// Whether `STOCKROOM_TEST_BACKEND=aws` asks for the AWS emulator.
pub fn on_aws() -> bool {
    std::env::var("STOCKROOM_TEST_BACKEND").is_ok_and(|b| b == "aws")
}

pub fn options(cfg: &mut Config, dir: &TempDir, gateway: Option<Arc<dyn PaymentGateway>>) -> Options {
    if !on_aws() {
        // `..` fills the `aws` field, which exists only with the feature.
        #[allow(clippy::needless_update)]
        return Options { gateway, ..Options::default() };
    }
    aws(cfg, dir, gateway)
}

#[cfg(feature = "aws")]
fn aws(cfg: &mut Config, dir: &TempDir, gateway: Option<Arc<dyn PaymentGateway>>) -> Options {
    use shared::adapters::aws::AwsConfig;
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("STOCKROOM_TEST_BACKEND=aws needs AWS_ENDPOINT_URL (an emulator: scripts/moto.sh start)");
    let name = dir
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("stack")
        .to_ascii_lowercase()
        .replace(['.', '_'], "-");
    let name = format!("sr-{}", name.trim_matches('-'));
    let vars = [
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL", endpoint),
        ("STOCKROOM_TABLE", name.clone()),
        ("STOCKROOM_BUCKET", name.clone()),
        ("STOCKROOM_QUEUE_NAME", name.clone()),
        ("STOCKROOM_CREATE_RESOURCES", "1".to_string()),
    ];
    // The SDK reads credentials from the environment: scripts/test.sh sets
    // dummy ones for the emulator.
    let aws =
        AwsConfig::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("aws config");
    cfg.backend.kind = shared::config::Backend::Aws;
    Options { gateway, aws: Some(aws) }
}

#[cfg(not(feature = "aws"))]
fn aws(_cfg: &mut Config, _dir: &TempDir, _gateway: Option<Arc<dyn PaymentGateway>>) -> Options {
    panic!("STOCKROOM_TEST_BACKEND=aws needs `--features aws`")
}
