use serde_json::{Value, json};
use shared::http::auth::Role;
use stockroom_tests::{TestApp, problem, s, spawn_app};

use crate::helpers::{DAY, advance, buy, expire, history};

async fn seat_days(app: &TestApp, sub: &str) -> u64 {
    history(app, sub).await["current"]["seat_days"].as_u64().unwrap()
}

fn file_names(e: &Value) -> Vec<String> {
    e["files"].as_array().unwrap().iter().map(|f| s(f).rsplit('/').next().unwrap().to_string()).collect()
}

async fn remove(app: &TestApp, sub: &str, file: &str) -> reqwest::Response {
    app.post_admin(&format!("/admin/subscriptions/{sub}/seats/remove"), json!({"file": file})).await
}

/// The price a renewal checkout quotes now (each quote on another provider,
/// so it is a new order rather than the open one again).
async fn renewal_quote(app: &TestApp, sub: &str, token: &str, provider: &str) -> i64 {
    let body = json!({"email": "ann@example.com", "product_id": "basic", "provider": provider, "renew_subscription_id": sub, "order_token": token});
    let r = app.post("/checkout", body).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["price"]["amount"].as_i64().unwrap()
}

#[tokio::test]
async fn seats_are_snapshotted_daily_and_the_renewal_follows_them() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    let (sub, token) = buy(&app, "basic").await;
    expire(&app).await;
    assert_eq!(seat_days(&app, &sub).await, 3);
    expire(&app).await;
    assert_eq!(seat_days(&app, &sub).await, 3, "one snapshot a day");
    // A seat more: the extra-account add-on works for per-seat plans.
    let body = json!({"email": "ann@example.com", "product_id": "extra-account", "provider": "stripe", "subscription_id": sub, "order_token": token});
    app.buy_body(body).await;
    let files = file_names(&app.entitlement(&sub).await);
    assert_eq!(files.len(), 4);
    advance(&app, DAY).await;
    expire(&app).await;
    assert_eq!(seat_days(&app, &sub).await, 7);
    assert_eq!(renewal_quote(&app, &sub, &token, "stripe").await, 19_900 + 6_600);
    // A seat fewer: the file goes back to stock, booked once.
    let r = remove(&app, &sub, &files[0]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.entitlement(&sub).await["files"].as_array().unwrap().len(), 3);
    assert!(app.keys("unused/").await.contains(&format!("unused/{}", files[0])));
    assert_eq!(app.ledger_count("revoke").await, 1);
    assert_eq!(remove(&app, &sub, &files[0]).await.status(), 200, "a repeat is the same removal");
    assert_eq!(app.ledger_count("revoke").await, 1);
    advance(&app, DAY).await;
    expire(&app).await;
    assert_eq!(seat_days(&app, &sub).await, 10);
    assert_eq!(renewal_quote(&app, &sub, &token, "nowpayments").await, 19_900);
    let stock = app.get_admin("/admin/stock").await;
    assert_eq!(stock["assigned"], 3);
}

#[tokio::test]
async fn seat_removal_refuses_what_it_cannot_do() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    let (starter, _) = buy(&app, "gold").await;
    let gold_file = file_names(&app.entitlement(&starter).await)[0].clone();
    assert_eq!(problem(remove(&app, &starter, &gold_file).await).await.0, 400, "starter plans are not per seat");
    let (sub, _) = buy(&app, "basic").await;
    assert_eq!(problem(remove(&app, &sub, &gold_file).await).await.0, 404, "not its seat");
    assert_eq!(problem(remove(&app, &sub, "../x").await).await.0, 400);
    assert_eq!(problem(remove(&app, "nope", "a.session").await).await.0, 404);
    let files = file_names(&app.entitlement(&sub).await);
    let url = format!("{}/admin/subscriptions/{sub}/seats/remove", app.url);
    let r = app
        .client
        .post(&url)
        .bearer_auth(app.staff_token(Role::InventoryManager))
        .json(&json!({"file": files[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 403);
    let r = app
        .client
        .post(&url)
        .bearer_auth(app.staff_token(Role::CustomerService))
        .json(&json!({"file": files[0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(remove(&app, &sub, &files[1]).await.status(), 200);
    assert_eq!(problem(remove(&app, &sub, &files[2]).await).await.0, 400, "the last seat stays");
    assert_eq!(app.entitlement(&sub).await["files"].as_array().unwrap().len(), 1);
    assert_eq!(app.ledger_count("revoke").await, 2);
}

#[tokio::test]
async fn a_removal_cut_short_is_finished_once() {
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (sub, _) = buy(&app, "basic").await;
    let files = file_names(&app.entitlement(&sub).await);
    // Crash after the file moved, before it was booked: a retry books it once.
    app.ctx().faults.arm("seats.after_move", 1);
    assert_eq!(remove(&app, &sub, &files[0]).await.status(), 500);
    assert!(app.keys("unused/").await.contains(&format!("unused/{}", files[0])));
    assert_eq!(app.ledger_count("revoke").await, 0);
    assert_eq!(remove(&app, &sub, &files[0]).await.status(), 200);
    assert_eq!(app.ledger_count("revoke").await, 1);
    // Crash right after the intent: nobody retries; the schedule finishes it.
    app.ctx().faults.arm("seats.after_begin", 1);
    assert_eq!(remove(&app, &sub, &files[1]).await.status(), 500);
    assert_eq!(app.entitlement(&sub).await["files"].as_array().unwrap().len(), 1);
    expire(&app).await;
    assert_eq!(app.ledger_count("revoke").await, 1, "a young intent is in flight");
    advance(&app, 6 * 60).await;
    assert_eq!(expire(&app).await["usage"]["seat_removals_finished"], 1);
    assert_eq!(app.ledger_count("revoke").await, 2);
    assert!(app.keys("unused/").await.contains(&format!("unused/{}", files[1])));
    assert_eq!(expire(&app).await["usage"]["seat_removals_finished"], 0);
}

#[tokio::test]
async fn removing_a_flagged_seat_ends_its_wait_for_a_replacement() {
    use shared::services::store::{replacements, subscriptions};
    let app = spawn_app().await;
    app.add_stock(3).await;
    let (sub, _) = buy(&app, "basic").await;
    let files = file_names(&app.entitlement(&sub).await);
    // No stock: the ban flags the file, and a replacement waits.
    let body = json!({"action": "ban", "files": [files[0]], "reason": "banned by the network"});
    let r: Value = app.post_admin("/admin/stock/adjust", body).await.json().await.unwrap();
    assert_eq!(r["results"][0]["outcome"], "flagged", "{r}");
    assert_eq!(remove(&app, &sub, &files[0]).await.status(), 200);
    assert!(app.keys("banned/").await.contains(&format!("banned/{}", files[0])), "a flagged seat goes to banned/");
    let now = subscriptions::get(app.ctx(), &sub).await.unwrap().unwrap();
    assert!(now.flagged.is_empty(), "{:?}", now.flagged);
    assert!(replacements::all(app.ctx()).read_all().await.unwrap().is_empty(), "nothing waits for it");
}
