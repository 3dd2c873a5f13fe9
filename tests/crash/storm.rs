//! Webhook storms: 100 concurrent copies of one delivery, and 100 shuffled,
//! duplicated deliveries of one payment's whole status history, for both
//! providers: one effect, ending fulfilled, never going back.

use std::sync::Arc;

use shared::domain::Timestamp;
use stockroom_tests::webhooks::{nowpayments_ipn, payment_id, stripe_event};
use stockroom_tests::{TestApp, spawn_app};

use super::books::check;

type Delivery = (Vec<u8>, Vec<(&'static str, String)>);

/// A small seeded generator (no timing, same order every run).
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

/// Sends every delivery at once; each must be acknowledged.
async fn storm(app: &Arc<TestApp>, path: &'static str, deliveries: Vec<Delivery>) {
    let mut set = tokio::task::JoinSet::new();
    for (raw, h) in deliveries {
        let app = app.clone();
        set.spawn(async move { app.post_raw(path, raw, &h).await.status().as_u16() });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
}

/// One sale per file, one subscription, the credit earned once.
async fn one_effect(app: &TestApp, order: &str, token: &str, stock: &[String], why: &str) {
    let o = app.wait_for(order, token, "fulfilled").await;
    assert_eq!(o["subscription"]["files"].as_array().map(Vec::len), Some(2), "{why}");
    let subs = app.ctx().records.get(&shared::services::keys::subscription(&format!("S{order}"))).await.unwrap();
    assert!(subs.is_some(), "{why}");
    for _ in 0..100 {
        if super::books::credit_entries(app, "earn").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(app.ledger_count("sale").await, 2, "{why}");
    assert_eq!(super::books::credit_entries(app, "earn").await, 1, "{why}");
    assert_eq!(app.order(order, token).await["status"], "fulfilled", "{why}: no regression");
    check(app, stock, why).await;
}

/// A silver order: (app, stock, order id, token, the checkout's answer).
async fn silver(provider: &str) -> (Arc<TestApp>, Vec<String>, String, String, serde_json::Value) {
    let app = spawn_app().await;
    let stock = app.add_stock(3).await;
    let (order, token, body) = app.checkout_ok("silver", provider).await;
    (Arc::new(app), stock, order, token, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_identical_nowpayments_deliveries_make_one_effect() {
    let (app, stock, order, token, body) = silver("nowpayments").await;
    let d = nowpayments_ipn(app.nowpayments_secret(), &order, payment_id(&body), "finished", "55", "55");
    storm(&app, "/webhooks/nowpayments", vec![d; 100]).await;
    one_effect(&app, &order, &token, &stock, "nowpayments x100").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_identical_stripe_deliveries_make_one_effect() {
    let (app, stock, order, token, _) = silver("stripe").await;
    let now = Timestamp::system_now();
    let d = stripe_event(app.stripe_secret(), "evt_storm", "checkout.session.completed", &order, 5500, "usd", now);
    storm(&app, "/webhooks/stripe", vec![d; 100]).await;
    one_effect(&app, &order, &token, &stock, "stripe x100").await;
}

/// `n` deliveries drawn from `history` (each at least once), shuffled.
fn history_storm(history: Vec<Delivery>, n: usize, seed: u64) -> Vec<Delivery> {
    let mut all: Vec<Delivery> = history.iter().cycle().take(n).cloned().collect();
    shuffle(&mut all, seed);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nowpayments_history_shuffled_and_duplicated_ends_fulfilled_once() {
    for seed in [7, 42] {
        let (app, stock, order, token, body) = silver("nowpayments").await;
        let (secret, pid) = (app.nowpayments_secret(), payment_id(&body));
        let history = ["waiting", "confirming", "confirmed", "sending", "partially_paid", "finished"]
            .iter()
            .map(|st| {
                let paid = if *st == "partially_paid" { "20" } else { "55" };
                nowpayments_ipn(secret, &order, pid, st, "55", paid)
            })
            .collect();
        storm(&app, "/webhooks/nowpayments", history_storm(history, 100, seed)).await;
        one_effect(&app, &order, &token, &stock, &format!("nowpayments history, seed {seed}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stripe_history_shuffled_and_duplicated_ends_fulfilled_once() {
    for seed in [7, 42] {
        let (app, stock, order, token, _) = silver("stripe").await;
        let (secret, now) = (app.stripe_secret(), Timestamp::system_now());
        let history = [
            ("evt_h1", "checkout.session.completed"),
            ("evt_h2", "checkout.session.async_payment_succeeded"),
            ("evt_h3", "payment_intent.succeeded"),
            ("evt_h4", "charge.succeeded"),
        ]
        .iter()
        .map(|(id, kind)| stripe_event(secret, id, kind, &order, 5500, "usd", now))
        .collect();
        storm(&app, "/webhooks/stripe", history_storm(history, 100, seed)).await;
        one_effect(&app, &order, &token, &stock, &format!("stripe history, seed {seed}")).await;
    }
}
