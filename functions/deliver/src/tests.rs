//! The deliver handler on the embedded backend, called with the scheduler's
//! event and `Context::default()`: a webhook to a real receiver on
//! 127.0.0.1 and a staff mail written as an `.eml` file.

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::lambda::testing::{config, embedded_state};
use shared::services::dispatch;
use shared::services::events::{self, Event};
use shared::services::hooks::endpoints::{self, NewEndpoint};
use shared::testkit::receiver::{Receiver, Reply};
use tempfile::TempDir;

use super::handler;

fn schedule_event() -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::from_str(include_str!("../events/schedule.json")).unwrap(), Context::default())
}

#[tokio::test]
async fn due_webhooks_and_mails_go_out_and_a_failed_attempt_is_retried_with_the_same_id() {
    let dir = TempDir::new().unwrap();
    let mut cfg = config().unwrap();
    cfg.backend.data_dir = dir.path().to_path_buf();
    cfg.mail.staff = vec!["staff@example.com".into()];
    let state = embedded_state(dir.path(), &cfg).unwrap();
    let ctx = &state.ctx;
    let receiver = Receiver::start(vec![Reply::status(503)]).await;
    let req = NewEndpoint { url: receiver.url.clone(), events: vec!["stock.low".into()] };
    endpoints::create(ctx, &req, "staff:test").await.unwrap();
    events::notify(
        ctx,
        Event::StockLow { product_id: "bronze".into(), available: 1, threshold: 2, days_of_cover: None },
    )
    .await;
    // The dispatcher's part: one delivery and one staff mail recorded.
    assert_eq!(dispatch::dispatch_pending(ctx, 0).await.unwrap(), 1);

    let report = handler(ctx, schedule_event()).await.unwrap();
    assert_eq!(report["webhooks"]["retrying"], 1, "{report}");
    assert_eq!(report["mail"]["sent"], 1, "{report}");
    assert!(report["steps"].as_array().unwrap().iter().all(|s| s["ok"] == true), "{report}");
    let mails: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().collect();
    assert_eq!(mails.len(), 1, "one .eml for the one staff address");

    // Not due again before its 5 s delay; then delivered.
    let report = handler(ctx, schedule_event()).await.unwrap();
    assert_eq!(report["webhooks"]["due"], 0, "{report}");
    assert_eq!(report["mail"]["sent"], 0, "a mail goes once: {report}");
    state.sandbox.as_ref().unwrap().clock.advance(10);
    let report = handler(ctx, schedule_event()).await.unwrap();
    assert_eq!(report["webhooks"]["delivered"], 1, "{report}");
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
}

#[tokio::test]
async fn nothing_due_is_a_quiet_run() {
    let dir = TempDir::new().unwrap();
    let state = embedded_state(dir.path(), &config().unwrap()).unwrap();
    let report = handler(&state.ctx, schedule_event()).await.unwrap();
    let steps: Vec<&str> = report["steps"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(steps, ["deliver_webhooks", "record_webhooks", "send_mail", "record_mail"], "{report}");
    assert_eq!(report["webhooks"]["due"], 0);
    assert_eq!(report["mail"]["sent"], 0);
}
