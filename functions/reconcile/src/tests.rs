//! The reconcile handler on the embedded backend, called with the
//! scheduler's event and `Context::default()`.

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::lambda::testing::{config, embedded_state};
use tempfile::TempDir;

use super::handler;

fn schedule() -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::from_str(include_str!("../events/schedule.json")).unwrap(), Context::default())
}

#[tokio::test]
async fn uploads_under_unused_are_adopted_once() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    for name in ["unused/a.session", "unused/b.session"] {
        state.ctx.files.put(name, b"x".to_vec(), true).await.unwrap();
    }
    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report["adopted"], 2, "{report}");
    let report = handler(&state.ctx, schedule()).await.unwrap();
    assert_eq!(report["adopted"], 0, "{report}");
}
