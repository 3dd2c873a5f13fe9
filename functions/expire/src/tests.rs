//! The expire handler on the embedded backend, called with the scheduler's
//! event and `Context::default()`.

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::lambda::testing::{add_stock, checkout, config, embedded_state};
use tempfile::TempDir;

use super::handler;

fn schedule() -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::from_str(include_str!("../events/schedule.json")).unwrap(), Context::default())
}

#[tokio::test]
async fn lapsed_holds_are_released_and_reported() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    add_stock(&state, &["s1.session"]).await.unwrap();
    checkout(&state, "buyer@example.com", "stripe").await.unwrap();

    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report["holds_released"], 0, "{report}");
    // Past the 30-minute hold.
    state.sandbox.as_ref().unwrap().clock.advance(31 * 60);
    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report["holds_released"], 1, "{report}");
    assert!(report.get("paid_requeued").is_some(), "{report}");
}

#[tokio::test]
async fn a_failed_step_fails_the_invocation_after_the_others_ran() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    add_stock(&state, &["s1.session"]).await.unwrap();
    checkout(&state, "buyer@example.com", "stripe").await.unwrap();
    state.sandbox.as_ref().unwrap().clock.advance(31 * 60);
    state.ctx.faults.arm("expire.verify", 1);
    let err = handler(&state.ctx, schedule()).await.unwrap_err();
    assert!(err.to_string().contains("verify_payments"), "{err}");
    // The hold was released all the same: the next run has nothing to do.
    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report["holds_released"], 0, "{report}");
    assert_eq!(report["steps"][0]["ok"], true, "{report}");
}
