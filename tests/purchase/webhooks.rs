use serde_json::{Value, json};
use shared::domain::Timestamp;
use stockroom_tests::webhooks::{nowpayments_ipn, payment_id, stripe_event};
use stockroom_tests::{problem, spawn_app};
use tokio::task::JoinSet;

#[tokio::test]
async fn fifty_concurrent_copies_of_a_webhook_make_one_subscription() {
    let app = spawn_app().await;
    app.add_stock(4).await;
    let (order_id, token, body) = app.checkout_ok("silver", "nowpayments").await;
    let (raw, headers) =
        nowpayments_ipn(app.nowpayments_secret(), &order_id, payment_id(&body), "finished", "55", "55");
    let app = std::sync::Arc::new(app);
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let (app, raw, headers) = (app.clone(), raw.clone(), headers.clone());
        set.spawn(async move { app.post_raw("/webhooks/nowpayments", raw, &headers).await.status() });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let order = app.wait_for(&order_id, &token, "fulfilled").await;
    assert_eq!(order["subscription"]["files"].as_array().unwrap().len(), 2);
    // Give any stray duplicate fulfilment time to do harm, then count.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.keys("assigned/").await.len(), 2);
    assert_eq!(app.keys("unused/").await.len(), 2);
    assert_eq!(app.ledger_count("sale").await, 2);
}

#[tokio::test]
async fn a_late_confirming_never_undoes_finished() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid = payment_id(&body);
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid, "finished", "30", "30");
    assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    app.wait_for(&order_id, &token, "fulfilled").await;
    for status in ["confirming", "waiting", "partially_paid", "expired"] {
        let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid, status, "30", "30");
        assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    }
    assert_eq!(app.order(&order_id, &token).await["status"], "fulfilled");
}

#[tokio::test]
async fn confirming_then_finished_in_any_order_ends_fulfilled() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, body) = app.checkout_ok("bronze", "nowpayments").await;
    let pid = payment_id(&body);
    for status in ["waiting", "confirming", "confirmed", "sending"] {
        let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid, status, "30", "30");
        assert_eq!(app.post_raw("/webhooks/nowpayments", raw, &h).await.status(), 200);
    }
    assert_eq!(app.order(&order_id, &token).await["status"], "confirming");
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, pid, "finished", "30", "30");
    app.post_raw("/webhooks/nowpayments", raw, &h).await;
    app.wait_for(&order_id, &token, "fulfilled").await;
}

#[tokio::test]
async fn forged_and_stale_signatures_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    let now = Timestamp::system_now();
    let cases = [
        stripe_event("whsec_wrong", "evt_1", "checkout.session.completed", &order_id, 3000, "usd", now),
        stripe_event(
            app.stripe_secret(),
            "evt_2",
            "checkout.session.completed",
            &order_id,
            3000,
            "usd",
            now.plus_secs(-301),
        ),
        stripe_event(
            app.stripe_secret(),
            "evt_3",
            "checkout.session.completed",
            &order_id,
            3000,
            "usd",
            // Ahead by more than the 300 s tolerance with room to spare: the
            // check comes later than `now`, by seconds on a loaded machine.
            now.plus_secs(330),
        ),
    ];
    for (raw, h) in cases {
        let (status, _) = problem(app.post_raw("/webhooks/stripe", raw, &h).await).await;
        assert_eq!(status, 401);
    }
    let (raw, _) =
        stripe_event(app.stripe_secret(), "evt_4", "checkout.session.completed", &order_id, 3000, "usd", now);
    let (status, _) = problem(app.post_raw("/webhooks/stripe", raw.clone(), &[]).await).await;
    assert_eq!(status, 401, "missing signature");
    let mut tampered = raw.clone();
    let at = tampered.iter().position(|b| *b == b'3').unwrap();
    tampered[at] = b'1';
    let (_, good) =
        stripe_event(app.stripe_secret(), "evt_4", "checkout.session.completed", &order_id, 3000, "usd", now);
    let (status, _) = problem(app.post_raw("/webhooks/stripe", tampered, &good).await).await;
    assert_eq!(status, 401, "body changed after signing");
    let (raw, mut h) = nowpayments_ipn(app.nowpayments_secret(), &order_id, 9, "finished", "30", "30");
    h[0].1 = "00".repeat(64);
    let (status, _) = problem(app.post_raw("/webhooks/nowpayments", raw, &h).await).await;
    assert_eq!(status, 401);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
    assert!(app.keys("assigned/").await.is_empty());
}

#[tokio::test]
async fn an_underpayment_is_partially_paid_and_hands_out_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "nowpayments").await;
    let sent = app.sandbox_pay(&order_id, json!({"amount": 1000})).await;
    assert_eq!(sent["webhook_status"], 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let order = app.order(&order_id, &token).await;
    assert_eq!(order["status"], "partially_paid");
    assert_eq!(order["missing"], "20 usdttrc20");
    assert!(order.get("subscription").is_none());
    assert!(app.keys("assigned/").await.is_empty());
    assert_eq!(app.keys("unused/").await.len(), 1);
}

#[tokio::test]
async fn a_payment_in_another_currency_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    let (raw, h) = stripe_event(
        app.stripe_secret(),
        "evt_eur",
        "checkout.session.completed",
        &order_id,
        3000,
        "eur",
        Timestamp::system_now(),
    );
    let (status, body) = problem(app.post_raw("/webhooks/stripe", raw, &h).await).await;
    assert_eq!(status, 422);
    assert!(body["type"].as_str().unwrap().ends_with("/amount-mismatch"));
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
}

#[tokio::test]
async fn verified_events_for_unknown_orders_are_acknowledged() {
    let app = spawn_app().await;
    let (raw, h) = nowpayments_ipn(app.nowpayments_secret(), "01JAAAAAAAAAAAAAAAAAAAAAAA", 1, "finished", "30", "30");
    let r = app.post_raw("/webhooks/nowpayments", raw, &h).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"received": true}));
}

#[tokio::test]
async fn stripe_expiry_releases_the_hold_at_once() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    app.sandbox_pay(&order_id, json!({"status": "expired"})).await;
    assert_eq!(app.order(&order_id, &token).await["status"], "expired");
    app.checkout_ok("bronze", "stripe").await;
}

#[tokio::test]
async fn after_the_sandbox_clock_moves_webhooks_signed_with_real_time_still_verify() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    // Days ahead in business time: a provider's CLI still signs with real time.
    let moved = app.post("/sandbox/clock", json!({"advance_seconds": 3 * 86_400})).await;
    assert_eq!(moved.status(), 200);
    let (order_id, token, _) = app.checkout_ok("bronze", "stripe").await;
    let real = Timestamp::system_now();
    let (raw, h) = stripe_event(
        app.stripe_secret(),
        "evt_stale",
        "checkout.session.completed",
        &order_id,
        3000,
        "usd",
        real.plus_secs(-301),
    );
    let (status, _) = problem(app.post_raw("/webhooks/stripe", raw, &h).await).await;
    assert_eq!(status, 401, "301 s from real time is stale");
    assert_eq!(app.order(&order_id, &token).await["status"], "pending");
    let (raw, h) =
        stripe_event(app.stripe_secret(), "evt_real", "checkout.session.completed", &order_id, 3000, "usd", real);
    assert_eq!(app.post_raw("/webhooks/stripe", raw, &h).await.status(), 200);
    app.wait_for(&order_id, &token, "fulfilled").await;
    // The sandbox's own signer signs with real time too.
    let (order_id, _, _) = {
        app.add_stock(1).await;
        app.checkout_ok("bronze", "stripe").await
    };
    assert_eq!(app.sandbox_pay(&order_id, json!({})).await["webhook_status"], 200);
}
