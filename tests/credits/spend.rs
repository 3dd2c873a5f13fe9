//! Spending credits at checkout: a pending debit, posted when the order is
//! paid, voided when it expires or fails; never below zero.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, problem, s, spawn_app_with};

use super::helpers::*;

/// Some tests keep several orders open, so allow a few per email.
async fn app() -> TestApp {
    spawn_app_with(|c| c.limits.pending_per_email = 10).await
}

/// Spending `email`'s credits: its own session, through the mailed link.
async fn proof(app: &TestApp, email: &str) -> Value {
    json!({"use_credits": true, "session": app.sign_in(email).await})
}

async fn created(r: reqwest::Response) -> (String, String, Value) {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    (s(&v["order_id"]), s(&v["order_token"]), v)
}

#[tokio::test]
async fn partial_spend_is_pending_then_posted_when_paid() {
    let app = app().await;
    let email = "part@example.com";
    app.add_stock(3).await;
    gift(&app, email, 10).await;
    let with = proof(&app, email).await;
    let (id, token, v) = created(checkout(&app, email, "bronze", with).await).await;
    assert_eq!((v["credits_used"].as_i64(), v["amount_due"]["amount"].as_i64()), (Some(10), Some(2000)), "{v}");
    assert_eq!(balance(&app, email).await, (10, 0, 10));
    assert_eq!(credits(&app, email).await["spendable"], 0);

    // The provider is checked against the remainder: less is partially paid.
    app.sandbox_pay(&id, json!({"amount": 1900})).await;
    app.wait_for(&id, &token, "partially_paid").await;
    assert_eq!(balance(&app, email).await, (10, 0, 10));
    app.sandbox_pay(&id, json!({})).await;
    app.wait_for(&id, &token, "fulfilled").await;
    // Paid: the spend posts; the $20 paid in cash earns 20, pending.
    let v = wait_credits(&app, email, |v| v["pending_in"] == 20).await;
    assert_eq!((v["posted"].as_i64(), v["pending_out"].as_i64()), (Some(0), Some(0)), "{v}");
}

#[tokio::test]
async fn credits_paying_the_whole_price_pay_the_order_at_once() {
    let app = app().await;
    let email = "full@example.com";
    app.add_stock(3).await;
    gift(&app, email, 40).await;
    let with = proof(&app, email).await;
    let (id, token, v) = created(checkout(&app, email, "bronze", with).await).await;
    assert_eq!((v["credits_used"].as_i64(), v["amount_due"]["amount"].as_i64()), (Some(30), Some(0)), "{v}");
    assert_eq!(v["status"], "paid");
    app.wait_for(&id, &token, "fulfilled").await;
    assert_eq!(balance(&app, email).await, (10, 0, 0));
    assert_eq!(kinds(&app, email, "earn").await, 0, "credits spent earn nothing");
}

#[tokio::test]
async fn expiry_voids_the_spend() {
    let app = app().await;
    let email = "exp@example.com";
    app.add_stock(3).await;
    gift(&app, email, 10).await;
    let with = proof(&app, email).await;
    let (id, token, _) = created(checkout(&app, email, "bronze", with).await).await;
    assert_eq!(balance(&app, email).await, (10, 0, 10));
    advance(&app, 31 * 60).await;
    assert_eq!(app.post_admin("/admin/expire", json!({})).await.status(), 200);
    app.wait_for(&id, &token, "expired").await;
    assert_eq!(balance(&app, email).await, (10, 0, 0));
    assert_eq!(kinds(&app, email, "void").await, 1, "the spend");
    // The job finds nothing more to do with it.
    run_job(&app).await;
    assert_eq!(balance(&app, email).await, (10, 0, 0));
}

/// A bronze order priced with all of `email`'s 10 credits, left to lapse:
/// its spend voided, the credits back. Returns its id, token and the proof
/// that spends them.
async fn lapsed_with_credits(app: &TestApp, email: &str) -> (String, String, Value) {
    app.add_stock(3).await;
    gift(app, email, 10).await;
    let with = proof(app, email).await;
    let (id, token, _) = created(checkout(app, email, "bronze", with.clone()).await).await;
    advance(app, 31 * 60).await;
    assert_eq!(app.post_admin("/admin/expire", json!({})).await.status(), 200);
    app.wait_for(&id, &token, "expired").await;
    assert_eq!(balance(app, email).await, (10, 0, 0));
    (id, token, with)
}

/// Once the $20 paid in cash has earned its 20: nothing held, posted or spendable.
async fn spent_once(app: &TestApp, email: &str) {
    let v = wait_credits(app, email, |v| v["pending_in"] == 20).await;
    let got = (v["posted"].as_i64(), v["pending_out"].as_i64(), v["spendable"].as_i64());
    assert_eq!(got, (Some(0), Some(0), Some(0)), "{v}");
}

/// The spend of an order that lapsed was voided, so its credits went back
/// and were spent on a new order. Paying the lapsed order late must not
/// charge them a second time: it stays expired and staff are told.
#[tokio::test]
async fn a_late_payment_cannot_spend_credits_spent_since() {
    let app = app().await;
    let email = "twice@example.com";
    let (first, first_token, with) = lapsed_with_credits(&app, email).await;
    let (second, second_token, _) = created(checkout(&app, email, "bronze", with).await).await;
    assert_eq!(balance(&app, email).await, (10, 0, 10));

    // The first order's $20 arrives after all.
    app.sandbox_pay(&first, json!({})).await;
    assert_eq!(app.order(&first, &first_token).await["status"], "expired");
    assert_eq!(balance(&app, email).await, (10, 0, 10), "the 10 credits are held once");
    assert_eq!(credits(&app, email).await["spendable"], 0);
    let alerts = app.events("ops.alert").await;
    let named = |a: &Value| a["kind"] == "late_payment_uncovered" && a["details"]["order_id"] == first;
    assert!(alerts.iter().any(named), "{alerts:?}");

    // The order that holds them pays and spends them, once.
    app.sandbox_pay(&second, json!({})).await;
    app.wait_for(&second, &second_token, "fulfilled").await;
    spent_once(&app, email).await;
}

/// Paid late with the credits still there: they are charged again, and the
/// order is fulfilled.
#[tokio::test]
async fn a_late_payment_charges_the_credits_again() {
    let app = app().await;
    let email = "late@example.com";
    let (id, token, _) = lapsed_with_credits(&app, email).await;
    app.sandbox_pay(&id, json!({})).await;
    app.wait_for(&id, &token, "fulfilled").await;
    spent_once(&app, email).await;
}

#[tokio::test]
async fn a_failed_payment_voids_the_spend() {
    let app = app().await;
    let email = "fail@example.com";
    app.add_stock(3).await;
    gift(&app, email, 10).await;
    let with = proof(&app, email).await;
    let (id, token, _) = created(checkout(&app, email, "bronze", with).await).await;
    app.sandbox_pay(&id, json!({"status": "failed"})).await;
    app.wait_for(&id, &token, "failed").await;
    assert_eq!(balance(&app, email).await, (10, 0, 0));
}

#[tokio::test]
async fn overspending_is_refused_even_at_once() {
    let app = app().await;
    let email = "over@example.com";
    app.add_stock(6).await;
    gift(&app, email, 10).await;
    let with = proof(&app, email).await;
    // Two checkouts racing for the same 10 credits: one gets them.
    let (a, b) =
        tokio::join!(checkout(&app, email, "bronze", with.clone()), checkout(&app, email, "gold", with.clone()));
    let codes = [a.status(), b.status()];
    assert!(codes.contains(&StatusCode::CREATED), "{codes:?}");
    let (_, _, pending_out) = balance(&app, email).await;
    assert_eq!(pending_out, 10, "spent once");
    assert_eq!(credits(&app, email).await["spendable"], 0);
    for r in [a, b] {
        if r.status() != StatusCode::CREATED {
            let (code, body) = problem(r).await;
            assert_eq!(code, StatusCode::CONFLICT);
            assert!(body["type"].as_str().unwrap().ends_with("/insufficient-credits"), "{body}");
        }
    }
    // Nothing left to spend: refused.
    let (code, body) = problem(checkout(&app, email, "diamond", with).await).await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
}

/// Earned 30, spent 30, then the earning purchase is deactivated: -30,
/// shown as such, and spending is refused until it is positive again.
#[tokio::test]
async fn a_negative_balance_stays_visible_and_refuses_spending() {
    let app = app().await;
    let email = "neg@example.com";
    let (first, _) = buy(&app, email, "bronze").await;
    wait_credits(&app, email, |v| v["pending_in"] == 30).await;
    advance(&app, HOLD_SECS + 1).await;
    run_job(&app).await;
    assert_eq!(balance(&app, email).await, (30, 0, 0));
    app.add_stock(6).await;
    let with = proof(&app, email).await;
    let (id, token, _) = created(checkout(&app, email, "bronze", with.clone()).await).await;
    app.wait_for(&id, &token, "fulfilled").await;
    assert_eq!(balance(&app, email).await, (0, 0, 0));
    assert_eq!(deactivate_order(&app, &first).await["credits"], "reversed");
    assert_eq!(balance(&app, email).await, (-30, 0, 0));
    let (code, body) = problem(checkout(&app, email, "bronze", with.clone()).await).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert!(body["type"].as_str().unwrap().ends_with("/insufficient-credits"), "{body}");
    gift(&app, email, 31).await;
    assert_eq!(balance(&app, email).await, (1, 0, 0));
    let (_, _, v) = created(checkout(&app, email, "gold", with).await).await;
    assert_eq!(v["credits_used"], 1);
}

/// An order token, even of a paid order, proves no right to credits
/// (`credits_proof` is gone): without a session, `use_credits` is 401 and
/// the balance is untouched.
#[tokio::test]
async fn an_order_token_is_no_proof() {
    let app = app().await;
    app.add_stock(3).await;
    let (id, token) = buy(&app, "mine@example.com", "bronze").await;
    let r = app.post_admin(&format!("/admin/orders/{id}/deactivate"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    gift(&app, "mine@example.com", 40).await;
    let old = json!({"use_credits": true, "credits_proof": {"order_id": id, "order_token": token}});
    let (code, p) = problem(checkout(&app, "mine@example.com", "bronze", old).await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{p}");
    let (code, _) = problem(checkout(&app, "mine@example.com", "bronze", json!({"use_credits": true})).await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(balance(&app, "mine@example.com").await, (40, 0, 0));
}

/// Another buyer's session, a forged one or a staff token spends nothing.
#[tokio::test]
async fn spending_needs_the_buyers_own_session() {
    let app = app().await;
    app.add_stock(3).await;
    gift(&app, "mine@example.com", 10).await;
    let other = proof(&app, "other@example.com").await;
    let (code, _) = problem(checkout(&app, "mine@example.com", "bronze", other).await).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "a session checks out for its own address only");
    for bearer in ["not-a-jwt".to_string(), app.admin_token()] {
        let forged = json!({"use_credits": true, "session": bearer});
        let (code, _) = problem(checkout(&app, "mine@example.com", "bronze", forged).await).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(balance(&app, "mine@example.com").await, (10, 0, 0));
}
