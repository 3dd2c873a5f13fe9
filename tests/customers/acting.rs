//! Checkout acting for a buyer on the session alone: renewals and credit
//! spending; a stranger's session does neither for someone else.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{TestApp, problem, s, spawn_app};

async fn bought(app: &TestApp, email: &str) -> Value {
    app.add_stock(1).await;
    app.buy_body(json!({"email": email, "product_id": "bronze", "provider": "nowpayments"})).await
}

fn renewal(email: &str, sid: &str) -> Value {
    json!({"email": email, "product_id": "bronze", "provider": "nowpayments", "renew_subscription_id": sid, "new": true})
}

#[tokio::test]
async fn a_session_renews_its_own_subscription_without_an_order_token() {
    let app = spawn_app().await;
    let first = bought(&app, "ann@example.com").await;
    let sid = s(&first["subscription"]["id"]);
    let session = app.sign_in("ann@example.com").await;
    let r = app.post_as(&session, "/checkout", renewal("ann@example.com", &sid)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.expect("json");
    app.sandbox_pay(&s(&c["order_id"]), json!({})).await;
    let done = app.wait_for(&s(&c["order_id"]), &s(&c["order_token"]), "fulfilled").await;
    let before = s(&first["subscription"]["valid_until"]);
    assert!(s(&done["subscription"]["valid_until"]) > before, "{done}");
}

#[tokio::test]
async fn a_stranger_cannot_renew_or_spend_for_another_buyer() {
    let app = spawn_app().await;
    let ann = bought(&app, "ann@example.com").await;
    let sid = s(&ann["subscription"]["id"]);
    let r =
        app.post_admin("/admin/credits/gifts", json!({"email": "ann@example.com", "amount": 40, "reason": "t"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let bob = app.sign_in("bob@example.com").await;

    // Bob's own address, Ann's subscription: as unknown (404).
    let (code, _) = problem(app.post_as(&bob, "/checkout", renewal("bob@example.com", &sid)).await).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // Ann's address with Bob's session: refused (400).
    let (code, _) = problem(app.post_as(&bob, "/checkout", renewal("ann@example.com", &sid)).await).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let mut spend =
        json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments", "use_credits": true});
    let (code, _) = problem(app.post_as(&bob, "/checkout", spend.clone()).await).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    // No proof at all: 401 for both.
    let (code, _) = problem(app.post("/checkout", renewal("ann@example.com", &sid)).await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = problem(app.post("/checkout", spend.clone()).await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    // Bob spending on his own address has nothing to spend.
    spend["email"] = json!("bob@example.com");
    let (code, _) = problem(app.post_as(&bob, "/checkout", spend.clone()).await).await;
    assert_eq!(code, StatusCode::CONFLICT);

    // Ann's credits are whole; the guest path (her order token) still renews.
    let admin = app.get_admin("/admin/customers/ann@example.com/credits").await;
    assert_eq!((admin["posted"].as_i64(), admin["spendable"].as_i64()), (Some(40), Some(40)), "{admin}");
    let mut guest = renewal("ann@example.com", &sid);
    guest["order_token"] = ann["order_token"].clone();
    assert_eq!(app.post("/checkout", guest).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_session_spends_its_own_credits() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let r =
        app.post_admin("/admin/credits/gifts", json!({"email": "ann@example.com", "amount": 40, "reason": "t"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let session = app.sign_in("ann@example.com").await;
    let body =
        json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments", "use_credits": true});
    let r = app.post_as(&session, "/checkout", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["credits_used"].as_i64(), v["amount_due"]["amount"].as_i64()), (Some(30), Some(0)), "{v}");
    app.wait_for(&s(&v["order_id"]), &s(&v["order_token"]), "fulfilled").await;
    let me: Value = app.get_as(&session, "/me").await.json().await.expect("json");
    assert_eq!(me["credits"]["posted"], 10, "{me}");
    assert_eq!(me["subscriptions"].as_array().map(Vec::len), Some(1), "{me}");
}
