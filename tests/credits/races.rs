//! Races: post against deactivate, repeated deactivations, two credits jobs,
//! a refund event against a staff deactivation. Each must count once.

use serde_json::{Value, json};
use stockroom_tests::spawn_app;

use super::helpers::*;

/// One purchase per round, due, then the job and a deactivation at once
/// (alternating which is sent first). Either the credit is voided, or it is
/// posted and reversed: the balance ends where it began, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn post_against_deactivate_settles_once_either_way() {
    let app = spawn_app().await;
    let email = "racer@example.com";
    gift(&app, email, 7).await;
    let (mut voided, mut reversed) = (0, 0);
    for round in 0..100 {
        let (order, _) = buy(&app, email, "bronze").await;
        wait_credits(&app, email, |v| v["pending_in"] == 30).await;
        advance(&app, HOLD_SECS + 1).await;
        let (job, deactivated) = if round % 2 == 0 {
            tokio::join!(run_job(&app), deactivate_order(&app, &order))
        } else {
            let (d, j) = tokio::join!(deactivate_order(&app, &order), run_job(&app));
            (j, d)
        };
        match deactivated["credits"].as_str() {
            Some("voided") => {
                voided += 1;
                assert_eq!(job["posted"], 0, "{job}");
            }
            Some("reversed") => reversed += 1,
            other => panic!("deactivation did nothing: {other:?} {deactivated}"),
        }
        // Again, after the dust settles: nothing more happens.
        run_job(&app).await;
        deactivate_order(&app, &order).await;
        assert_eq!(balance(&app, email).await, (7, 0, 0), "round {round}");
    }
    assert_eq!(kinds(&app, email, "void").await, voided);
    assert_eq!(kinds(&app, email, "post").await, reversed);
    assert_eq!(kinds(&app, email, "reverse").await, reversed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_deactivations_reverse_once() {
    let app = spawn_app().await;
    let email = "dup@example.com";
    let (order, _) = buy(&app, email, "bronze").await;
    wait_credits(&app, email, |v| v["pending_in"] == 30).await;
    advance(&app, HOLD_SECS + 1).await;
    run_job(&app).await;
    assert_eq!(balance(&app, email).await, (30, 0, 0));
    let answers = deactivate_many(&app, &order, 10).await;
    assert_eq!(answers.iter().filter(|a| a["credits"] == "reversed").count(), 1, "{answers:?}");
    assert_eq!(balance(&app, email).await, (0, 0, 0));
    assert_eq!(kinds(&app, email, "reverse").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_jobs_at_once_post_each_credit_once() {
    let app = spawn_app().await;
    let emails = ["j1@example.com", "j2@example.com", "j3@example.com", "j4@example.com"];
    for e in emails {
        buy(&app, e, "bronze").await;
        wait_credits(&app, e, |v| v["pending_in"] == 30).await;
    }
    advance(&app, HOLD_SECS + 1).await;
    let (a, b) = tokio::join!(run_job(&app), run_job(&app));
    let posted = a["posted"].as_i64().unwrap() + b["posted"].as_i64().unwrap();
    assert_eq!(posted, 4, "{a} {b}");
    for e in emails {
        assert_eq!(balance(&app, e).await, (30, 0, 0));
        assert_eq!(kinds(&app, e, "post").await, 1);
    }
    assert_eq!(run_job(&app).await["posted"], 0);
}

/// The provider's refund event, staff's refund and staff's deactivation of
/// a purchase whose credit was posted, all at once: reversed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refund_event_and_staff_deactivation_at_once() {
    let app = spawn_app().await;
    let email = "refund@example.com";
    gift(&app, email, 5).await;
    let (order, token) = buy(&app, email, "bronze").await;
    wait_credits(&app, email, |v| v["pending_in"] == 30).await;
    advance(&app, HOLD_SECS + 1).await;
    run_job(&app).await;
    assert_eq!(balance(&app, email).await, (35, 0, 0));
    let refund_event = app.sandbox_pay(&order, json!({"status": "refunded"}));
    let refund_path = format!("/admin/orders/{order}/refund");
    let staff_refund = app.post_admin(&refund_path, json!({}));
    let (_, _, d) = tokio::join!(refund_event, staff_refund, deactivate_order(&app, &order));
    assert!(d["credits"] == "reversed" || d["credits"] == "unchanged", "{d}");
    app.wait_for(&order, &token, "refunded").await;
    assert_eq!(balance(&app, email).await, (5, 0, 0));
    assert_eq!(kinds(&app, email, "reverse").await, 1);
}

/// A refund before the hold ends voids the pending credit; the job never
/// posts it.
#[tokio::test]
async fn a_refund_voids_a_pending_credit() {
    let app = spawn_app().await;
    let email = "early@example.com";
    let (order, token) = buy(&app, email, "bronze").await;
    wait_credits(&app, email, |v| v["pending_in"] == 30).await;
    app.sandbox_pay(&order, json!({"status": "refunded"})).await;
    app.wait_for(&order, &token, "refunded").await;
    assert_eq!(balance(&app, email).await, (0, 0, 0));
    advance(&app, HOLD_SECS + 1).await;
    assert_eq!(run_job(&app).await["posted"], 0);
    assert_eq!(balance(&app, email).await, (0, 0, 0));
}

/// `n` deactivation requests, each on its own task, all in flight at once.
async fn deactivate_many(app: &stockroom_tests::TestApp, order: &str, n: usize) -> Vec<Value> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, token) = (app.client.clone(), app.admin_token());
        let url = format!("{}/admin/orders/{order}/deactivate", app.url);
        tasks.spawn(async move {
            let r = client.post(url).bearer_auth(token).json(&json!({})).send().await.expect("POST");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        });
    }
    tasks.join_all().await
}
