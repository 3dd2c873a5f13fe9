//! Assign (fulfilment) crashed at each step boundary, failing or dying:
//! redelivery finishes it, the files are handed out once and the credit is
//! earned once.

use std::time::Duration;

use serde_json::json;
use shared::services::faults::Mode;
use stockroom_tests::{TestApp, s, spawn_app};

use super::books::{MODES, check, credit_entries, restart, wait_hit};

pub const POINTS: &[&str] =
    &["fulfil.after_claim", "fulfil.after_first_move", "fulfil.after_move", "fulfil.after_finish"];

async fn assign_crashed_at(point: &'static str, mode: Mode) {
    let why = format!("{point} {mode:?}");
    let mut app = spawn_app().await;
    let stock = app.add_stock(4).await;
    let (order_id, token, _) = app.checkout_ok("gold", "stripe").await;
    app.ctx().faults.arm_mode(point, 1, mode);
    app.sandbox_pay(&order_id, json!({})).await;
    wait_hit(&app, point).await;
    if mode == Mode::Abort {
        restart(&mut app, 0).await;
    }
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    let files = order["subscription"]["files"].as_array().unwrap().len();
    assert_eq!(files, 3, "{why}");
    let ent = app.entitlement(&s(&order["subscription"]["id"])).await;
    assert_eq!(ent["files"].as_array().map(Vec::len), Some(3), "{why}: {ent}");
    wait_earned(&app, &why).await;
    assert_eq!(app.keys("assigned/").await.len(), 3, "{why}");
    check(&app, &stock, &why).await;
    assert_eq!(credit_entries(&app, "earn").await, 1, "{why}: earned once");
}

/// Earning follows fulfilment on the worker.
async fn wait_earned(app: &TestApp, why: &str) {
    for _ in 0..200 {
        if credit_entries(app, "earn").await == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{why}: the credit was never earned");
}

#[tokio::test]
async fn assign_crashed_at_every_point_finishes_once() {
    for point in POINTS {
        for mode in MODES {
            assign_crashed_at(point, mode).await;
        }
    }
}
