//! `POST /me/subscriptions/{id}/replacements`: a buyer reports a bad file
//! of theirs and gets a fresh one, once; strangers, the cap, the warranty
//! and no stock.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, problem, s, spawn_app};

async fn bronze(app: &TestApp, email: &str) -> (String, String) {
    let o = app.buy_body(json!({"email": email, "product_id": "bronze", "provider": "nowpayments"})).await;
    (s(&o["subscription"]["id"]), s(&o["subscription"]["files"][0]))
}

fn path(sub: &str) -> String {
    format!("/me/subscriptions/{sub}/replacements")
}

async fn report(app: &TestApp, session: &str, sub: &str, file: &str) -> reqwest::Response {
    app.post_as(session, &path(sub), json!({"file": file, "reason": "banned by the network"})).await
}

#[tokio::test]
async fn a_buyer_swaps_a_bad_file_once_and_the_repeat_answers_the_same() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, file) = bronze(&app, "ann@example.com").await;
    let spare = app.add_stock(1).await;
    let ann = app.sign_in("ann@example.com").await;

    let r = report(&app, &ann, &sub, &file).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.expect("json");
    assert_eq!((made["status"].as_str(), made["old_file"].as_str()), (Some("replaced"), Some(file.as_str())));
    assert_eq!(made["new_file"], json!(spare[0]));
    assert!(app.keys("banned/").await.iter().any(|k| k.ends_with(&file)));

    let again = report(&app, &ann, &sub, &file).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["replacement_id"], made["replacement_id"]);

    let me: Value = app.get_as(&ann, "/me").await.json().await.expect("json");
    assert_eq!(me["subscriptions"][0]["files"], json!([spare[0]]));
    let replaced = app.events("subscription.file_replaced").await;
    assert_eq!(replaced.len(), 1);
    assert_eq!((s(&replaced[0]["file"]), s(&replaced[0]["replacement"])), (file, spare[0].clone()));

    // Bronze has one file, so one replacement.
    let (status, p) = problem(report(&app, &ann, &sub, &spare[0]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(s(&p["type"]).ends_with("/replacement-limit"), "{p}");
}

#[tokio::test]
async fn only_the_buyer_may_report_and_only_their_files() {
    let app = spawn_app().await;
    app.add_stock(2).await;
    let (sub, file) = bronze(&app, "ann@example.com").await;
    let (_, bobs_file) = bronze(&app, "bob@example.com").await;
    app.add_stock(1).await;
    let body = json!({"file": file, "reason": "x"});

    let r = app.post(&path(&sub), body.clone()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no session");
    let r = app.post_as("not-a-session", &path(&sub), body.clone()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a forged session");
    let r = app.post_as(&app.admin_token(), &path(&sub), body).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a staff token is no customer session");
    let bob = app.sign_in("bob@example.com").await;
    let (status, _) = problem(report(&app, &bob, &sub, &file).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's subscription looks unknown");
    let ann = app.sign_in("ann@example.com").await;
    let (status, _) = problem(report(&app, &ann, &sub, &bobs_file).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a file of another buyer");
    let r = app.post_as(&ann, &path(&sub), json!({"file": file})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no reason");
    assert_eq!(app.keys("banned/").await, Vec::<String>::new(), "nothing moved");
    assert!(app.events("subscription.file_replaced").await.is_empty());
}

#[tokio::test]
async fn past_the_warranty_a_report_is_refused() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, file) = bronze(&app, "ann@example.com").await;
    app.add_stock(1).await;
    let r = app.post("/sandbox/clock", json!({"advance_seconds": 72 * 3600 + 60})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ann = app.sign_in("ann@example.com").await;
    let (status, p) = problem(report(&app, &ann, &sub, &file).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(s(&p["type"]).ends_with("/out-of-warranty"), "{p}");
}

#[tokio::test]
async fn without_stock_it_waits_and_new_stock_fills_it() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let (sub, file) = bronze(&app, "ann@example.com").await;
    let ann = app.sign_in("ann@example.com").await;
    let r = report(&app, &ann, &sub, &file).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.expect("json");
    assert_eq!(made["status"], "backordered");
    assert!(made.get("new_file").is_none());

    let fresh = app.add_stock(1).await;
    let again: Value = report(&app, &ann, &sub, &file).await.json().await.expect("json");
    assert_eq!((again["status"].as_str(), &again["new_file"]), (Some("replaced"), &json!(fresh[0])));
    assert_eq!(again["replacement_id"], made["replacement_id"]);
    let me: Value = app.get_as(&ann, "/me").await.json().await.expect("json");
    assert_eq!(me["subscriptions"][0]["files"], json!([fresh[0]]));
}
