//! The credits handler on the embedded backend, called with the scheduler's
//! event and `Context::default()`.

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::lambda::testing::{config, embedded_state};
use shared::services::credits::{GiftBody, gift};
use tempfile::TempDir;

use super::handler;

fn schedule() -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::from_str(include_str!("../events/schedule.json")).unwrap(), Context::default())
}

#[tokio::test]
async fn the_job_reports_what_it_settled() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    let body = GiftBody { email: "buyer@example.com".into(), amount: 5, reason: "welcome".into() };
    gift(&state.ctx, body, "test").await.unwrap();

    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report, json!({"scanned": 0, "posted": 0, "voided": 0, "skipped": 0}), "gifts post at once");
}
