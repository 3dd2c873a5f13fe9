use serde_json::json;
use stockroom_tests::spawn_app;

#[tokio::test]
async fn a_restart_keeps_orders_holds_and_files() {
    let mut app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    app.restart().await;
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
    assert_eq!(app.checkout("bronze", "stripe").await.status(), 409, "the hold survived");
    assert_eq!(app.keys("unused/").await.len(), 1);
    app.sandbox_pay(&order_id, json!({})).await;
    app.wait_for(&order_id, &token, "fulfilled").await;
    app.restart().await;
    let order = app.order(&order_id, &token).await;
    assert_eq!(order["status"], "fulfilled");
    assert_eq!(order["subscription"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(app.keys("assigned/").await.len(), 1);
}

/// Crashes at each step boundary of fulfilment; redelivery must finish the
/// job with no file lost or handed out twice.
#[tokio::test]
async fn a_crash_between_steps_is_finished_by_redelivery() {
    for point in ["fulfil.after_claim", "fulfil.after_first_move", "fulfil.after_move"] {
        let app = spawn_app().await;
        app.add_stock(4).await;
        let (order_id, token, _) = app.checkout_ok("gold", "stripe").await;
        app.ctx().faults.arm(point, 1);
        app.sandbox_pay(&order_id, json!({})).await;
        // The first attempt fails; the message comes back after its
        // visibility timeout (1 s in tests) and the retry finishes.
        let order = app.wait_for(&order_id, &token, "fulfilled").await;
        let files = order["subscription"]["files"].as_array().unwrap().len();
        assert_eq!(files, 3, "{point}");
        assert_eq!(app.keys("assigned/").await.len(), 3, "{point}");
        assert_eq!(app.keys("unused/").await.len(), 1, "{point}");
        assert_eq!(app.ledger_count("sale").await, 3, "{point}");
        assert!(app.ctx().faults.hit(point).is_ok(), "{point} was hit");
    }
}

#[tokio::test]
async fn a_lost_fulfilment_message_is_found_by_the_sweep() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    app.ctx().faults.arm("webhook.enqueue", 1);
    app.sandbox_pay(&order_id, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.order(&order_id, &token).await["status"], "paid", "paid, and its message lost");
    app.post("/sandbox/clock", json!({"advance_seconds": 180})).await;
    let report: serde_json::Value = app.post_admin("/admin/expire", json!({})).await.json().await.unwrap();
    assert_eq!(report["paid_requeued"], 1);
    app.wait_for(&order_id, &token, "fulfilled").await;
}

/// Dedup of webhooks is one guard; fulfilment must hold on its own when the
/// queue delivers the same order many times at once.
#[tokio::test]
async fn duplicate_fulfilment_messages_hand_out_once() {
    let app = spawn_app().await;
    app.add_stock(8).await;
    let (order_id, token, _) = app.checkout_ok("diamond", "nowpayments").await;
    app.ctx().faults.arm("webhook.enqueue", 1);
    app.sandbox_pay(&order_id, json!({})).await;
    for _ in 0..20 {
        shared::services::jobs::enqueue(app.ctx(), &order_id).await.unwrap();
    }
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let ctx = app.ctx().clone();
        let id = order_id.clone();
        set.spawn(
            async move { shared::services::fulfil::fulfil(&ctx, &id).await.map(|_| ()).map_err(|e| e.to_string()) },
        );
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    app.wait_for(&order_id, &token, "fulfilled").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.keys("assigned/").await.len(), 6);
    assert_eq!(app.keys("unused/").await.len(), 2);
    assert_eq!(app.ledger_count("sale").await, 6);
}
