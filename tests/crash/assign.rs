//! Assign (fulfilment) crashed at each step boundary, failing or dying:
//! redelivery finishes it, the files are handed out once and the credit is
//! earned once.

use std::time::Duration;

use serde_json::json;
use shared::services::faults::Mode;
use stockroom_tests::{TestApp, s, spawn_app};

use super::books::{MODES, balance, check, credit_entries, restart, wait_hit};

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

/// The credit is written in fulfilment's finishing transaction: with every
/// run failing right after it, the order is fulfilled and its credit
/// pending, once, and a refund still voids it.
#[tokio::test]
async fn the_credit_is_earned_in_the_same_transaction_as_the_fulfilment() {
    const ALWAYS: u32 = 1000;
    let app = spawn_app().await;
    let stock = app.add_stock(4).await;
    let (order_id, token, _) = app.checkout_ok("gold", "stripe").await;
    app.ctx().faults.arm("fulfil.after_finish", ALWAYS);
    app.sandbox_pay(&order_id, json!({})).await;
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    for _ in 0..400 {
        if app.ctx().faults.remaining("fulfil.after_finish") < ALWAYS - 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(app.ctx().faults.remaining("fulfil.after_finish") < ALWAYS - 1, "never redelivered");
    assert_eq!(order["subscription"]["files"].as_array().map(Vec::len), Some(3));
    assert_eq!(credit_entries(&app, "earn").await, 1, "earned with the fulfilment, once");
    assert_eq!(balance(&app).await, (0, 80), "pending");
    app.ctx().faults.arm("fulfil.after_finish", 0);
    let r = app.post_admin(&format!("/admin/orders/{order_id}/refund"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(credit_entries(&app, "void").await, 1, "the refund voids the pending credit");
    assert_eq!(balance(&app).await, (0, 0));
    assert_eq!(app.keys("unused/").await.len(), 4, "every file back");
    check(&app, &stock, "earn with fulfilment").await;
}

/// Earning is part of fulfilment's last transaction.
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
