//! Refunding the order that created a subscription ends it, and with it
//! what later orders (renewals, add-ons) bought while they stay paid: staff
//! are refused until those are refunded; a refund the provider made cannot
//! be refused, so it ends the subscription and alerts staff, naming them.

use std::sync::Arc;

use serde_json::{Value, json};
use stockroom_tests::gateway::ScriptedGateway;
use stockroom_tests::{TestApp, problem, s, spawn_app, spawn_app_with_gateway};

use crate::refunds::{EMAIL, addon, plan, refund};

/// The names of the actions staff are offered on the order.
async fn actions(app: &TestApp, order: &str) -> Vec<String> {
    let d = app.get_admin(&format!("/admin/orders/{order}")).await;
    d["actions"].as_array().map(|a| a.iter().map(|x| s(&x["name"])).collect()).unwrap_or_default()
}

/// A staff refund that must be refused as later orders first: its detail.
async fn refused(app: &TestApp, order: &str) -> String {
    let (status, p) = problem(app.post_admin(&format!("/admin/orders/{order}/refund"), json!({})).await).await;
    assert_eq!(status, 409, "{p}");
    assert!(s(&p["type"]).ends_with("/refund-later-orders-first"), "{p}");
    s(&p["detail"])
}

#[tokio::test]
async fn the_plan_is_not_refunded_while_later_orders_still_add_to_it() {
    let gw = Arc::new(ScriptedGateway::default());
    let app = spawn_app_with_gateway(gw.clone()).await;
    app.add_stock(2).await;
    let (sub, plan_order, token) = plan(&app, "bronze").await;
    let extra = addon(&app, "extra-account", &sub, &token, false).await;
    let renewal = addon(&app, "bronze", &sub, &token, true).await;
    let before = app.entitlement(&sub).await;

    let detail = refused(&app, &plan_order).await;
    assert!(detail.contains(&extra) && detail.contains(&renewal), "names both: {detail}");
    assert_eq!(app.order(&plan_order, &token).await["status"], "fulfilled", "nothing changed");
    assert_eq!(app.entitlement(&sub).await, before);
    assert!(gw.refunds.lock().unwrap().is_empty(), "no money went back");
    assert_eq!(app.ledger_count("refund").await, 0);
    assert!(!actions(&app, &plan_order).await.contains(&"refund".to_string()), "no button that would 409");

    assert_eq!(refund(&app, &extra).await.0, 200);
    let detail = refused(&app, &plan_order).await;
    assert!(detail.contains(&renewal) && !detail.contains(&extra), "a refunded order adds nothing: {detail}");
    assert_eq!(refund(&app, &renewal).await.0, 200);
    // An unpaid checkout for it adds nothing yet.
    let open = json!({"email": EMAIL, "product_id": "extend-30", "provider": "nowpayments", "subscription_id": sub, "order_token": token});
    assert_eq!(app.post("/checkout", open).await.status(), 201);
    assert!(actions(&app, &plan_order).await.contains(&"refund".to_string()));

    let (status, report) = refund(&app, &plan_order).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(app.entitlement(&sub).await["state"], "revoked");
    assert_eq!(app.keys("unused/").await.len(), 2);
    assert!(app.events("ops.alert").await.is_empty(), "staff chose this: no alert");
}

#[tokio::test]
async fn a_provider_refund_of_the_plan_still_ends_it_and_alerts_staff_naming_the_later_orders() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (sub, plan_order, token) = plan(&app, "bronze").await;
    let extra = addon(&app, "extra-account", &sub, &token, false).await;
    let paid = app.sandbox_pay(&plan_order, json!({"status": "refunded"})).await;
    assert_eq!(paid["webhook_status"], 200, "{paid}");
    app.wait_for(&plan_order, &token, "refunded").await;
    assert_eq!(app.entitlement(&sub).await["state"], "revoked", "the money is gone: the plan ends");
    let alerts: Vec<Value> = app.events("ops.alert").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "refund_ended_later_orders");
    assert_eq!(alerts[0]["details"]["later_orders"], json!([extra]));
    assert_eq!(alerts[0]["details"]["subscription_id"], json!(sub));
    // The add-on's own refund now moves only money: its file went back with the plan.
    assert_eq!(refund(&app, &extra).await.0, 200);
    app.eventually("every file back in stock", || async { app.keys("unused/").await.len() == 2 }).await;
}
