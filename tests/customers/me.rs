//! `GET /me`: the signed-in buyer's own subscriptions, orders and credits.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, s, spawn_app};

async fn me(app: &TestApp, session: &str) -> Value {
    let r = app.get_as(session, "/me").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

fn ids(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list].as_array().expect("a list").iter().map(|e| s(&e[field])).collect()
}

#[tokio::test]
async fn each_buyer_sees_only_their_own() {
    let app = spawn_app().await;
    app.add_stock(6).await;
    let ann =
        app.buy_body(json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments"})).await;
    let bob = app.buy_body(json!({"email": "bob@example.com", "product_id": "silver", "provider": "stripe"})).await;
    let r =
        app.post_admin("/admin/credits/gifts", json!({"email": "ann@example.com", "amount": 7, "reason": "t"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Ann also has an unpaid order: listed, with no subscription yet.
    let open = app
        .post("/checkout", json!({"email": "ann@example.com", "product_id": "gold", "provider": "nowpayments"}))
        .await;
    assert_eq!(open.status(), StatusCode::CREATED);
    let open: Value = open.json().await.expect("json");

    let a = me(&app, &app.sign_in("ann@example.com").await).await;
    let b = me(&app, &app.sign_in("bob@example.com").await).await;

    assert_eq!(a["email"], "ann@example.com");
    assert_eq!(ids(&a, "orders", "order_id"), [s(&open["order_id"]), s(&ann["order_id"])], "newest first");
    assert_eq!(a["orders"][0]["status"], "pending");
    assert_eq!(a["orders"][1]["status"], "fulfilled");
    assert_eq!(a["orders"][1]["price"], json!({"amount": 3000, "currency": "USD"}));
    assert_eq!(ids(&a, "subscriptions", "id"), [s(&ann["subscription"]["id"])]);
    let sub = &a["subscriptions"][0];
    assert_eq!((sub["product_id"].as_str(), sub["state"].as_str()), (Some("bronze"), Some("active")));
    assert_eq!((sub["interval_seconds"].as_u64(), sub["can_run"].as_bool()), (Some(3600), Some(true)));
    assert_eq!(sub["files"], ann["subscription"]["files"]);
    assert_eq!(sub["valid_until"], ann["subscription"]["valid_until"]);
    assert_eq!((a["credits"]["posted"].as_i64(), a["credits"]["spendable"].as_i64()), (Some(7), Some(7)));

    assert_eq!(b["email"], "bob@example.com");
    assert_eq!(ids(&b, "orders", "order_id"), [s(&bob["order_id"])]);
    assert_eq!(ids(&b, "subscriptions", "id"), [s(&bob["subscription"]["id"])]);
    assert_eq!(b["credits"]["posted"], 0);
    let (a_text, b_text) = (a.to_string(), b.to_string());
    assert!(!b_text.contains(&s(&ann["order_id"])) && !b_text.contains("ann@"), "{b_text}");
    assert!(!a_text.contains(&s(&bob["order_id"])) && !a_text.contains("bob@"), "{a_text}");
}

#[tokio::test]
async fn an_address_that_bought_nothing_sees_an_empty_page() {
    let app = spawn_app().await;
    let v = me(&app, &app.sign_in("new@example.com").await).await;
    assert_eq!(v["subscriptions"], json!([]));
    assert_eq!(v["orders"], json!([]));
    assert_eq!((v["credits"]["posted"].as_i64(), v["credits"]["pending_in"].as_i64()), (Some(0), Some(0)));
}

#[tokio::test]
async fn a_session_reads_its_own_orders_and_no_one_elses() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let ann =
        app.buy_body(json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments"})).await;
    let path = format!("/orders/{}", s(&ann["order_id"]));
    let mine = app.get_as(&app.sign_in("ann@example.com").await, &path).await;
    assert_eq!(mine.status(), StatusCode::OK);
    let mine: Value = mine.json().await.expect("json");
    assert_eq!(mine["subscription"]["id"], ann["subscription"]["id"]);
    let bob = app.get_as(&app.sign_in("bob@example.com").await, &path).await;
    assert_eq!(bob.status(), StatusCode::NOT_FOUND, "someone else's order looks unknown");
    assert_eq!(app.get_as("a.b.c", &path).await.status(), StatusCode::UNAUTHORIZED, "a forged session");
    assert_eq!(app.get_as(&s(&ann["order_token"]), &path).await.status(), StatusCode::OK, "the guest's token");
}
