//! A reminder mail's renewal link signs the buyer in (once), and only the
//! mail holds it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use stockroom_tests::signin::link_token;
use stockroom_tests::{s, spawn_app};

#[tokio::test]
async fn the_grace_mail_carries_a_single_use_sign_in_link_to_renew() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    let o = app.buy_body(json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments"})).await;
    let sid = s(&o["subscription"]["id"]);
    let r = app.post("/sandbox/clock", json!({"advance_seconds": 30 * 86_400 + 3600})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.post_admin("/admin/expire", json!({})).await.status(), StatusCode::OK);

    let mut text = None;
    for _ in 0..200 {
        text = app.mails_to("ann@example.com").into_iter().map(|(_, t)| t).find(|t| t.contains("&renew="));
        if text.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = text.expect("a grace mail with a renewal link");
    assert!(text.contains("/account?token=") && text.contains(&format!("&renew={sid}")), "{text}");
    let token = link_token(&text).expect("token");
    for e in app.all_events().await {
        assert!(!e.to_string().contains(&token), "an event carries the link: {e}");
    }

    let (code, v) = app.exchange(&token).await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(app.exchange(&token).await.0, StatusCode::UNAUTHORIZED, "once");
    let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments", "renew_subscription_id": sid});
    let r = app.post_as(&s(&v["session_token"]), "/checkout", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
