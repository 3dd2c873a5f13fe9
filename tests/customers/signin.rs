//! The link and the session: once, for 15 minutes, never forged, limited.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom_tests::{problem, s, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_link_signs_in_once_and_a_concurrent_second_exchange_loses() {
    let app = spawn_app().await;
    let token = app.sign_in_link("ann@example.com").await;
    let (a, b) = tokio::join!(app.exchange(&token), app.exchange(&token));
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::UNAUTHORIZED], "{a:?} {b:?}");
    let won = if a.0 == StatusCode::OK { a.1 } else { b.1 };
    assert!(won["expires_at"].as_str().is_some_and(|t| !t.is_empty()), "{won}");
    let r = app.get_as(&s(&won["session_token"]), "/me").await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.expect("json");
    assert_eq!(me["email"], "ann@example.com");

    let r = app.post("/auth/session", json!({"token": token})).await;
    let (code, p) = problem(r).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "used: {p}");
}

#[tokio::test]
async fn a_link_lapses_after_15_minutes_and_a_session_after_24_hours() {
    let app = spawn_app().await;
    let late = app.sign_in_link("ann@example.com").await;
    let fresh = app.sign_in_link("ann@example.com").await;
    let (code, v) = app.exchange(&fresh).await;
    assert_eq!(code, StatusCode::OK);
    let session = s(&v["session_token"]);
    let r = app.post("/sandbox/clock", json!({"advance_seconds": 15 * 60})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (code, _) = problem(app.post("/auth/session", json!({"token": late})).await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "lapsed");
    assert_eq!(app.get_as(&session, "/me").await.status(), StatusCode::OK);
    let r = app.post("/sandbox/clock", json!({"advance_seconds": 24 * 3600})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (code, _) = problem(app.get_as(&session, "/me").await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "the session lapsed");
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused_both_ways() {
    let app = spawn_app().await;
    for token in ["", "sl_not-a-link", &"x".repeat(500)] {
        let (code, _) = problem(app.post("/auth/session", json!({"token": token})).await).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    let session = app.sign_in("ann@example.com").await;

    // A session whose claims were changed (another buyer) fails its signature.
    let parts: Vec<&str> = session.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims = String::from_utf8(b64(parts[1])).expect("utf8").replace("ann@example.com", "bob@example.com");
    let forged = format!("{}.{}.{}", parts[0], b64_encode(claims.as_bytes()), parts[2]);
    // A staff token, and one signed with the customer key's local default by
    // someone who guessed it but not the claims shape.
    let staff = app.admin_token();
    let wrong_key = shared::http::auth::mint(
        &secrecy::SecretString::from("not-the-customer-key"),
        "ann@example.com",
        shared::http::auth::Role::Admin,
        shared::domain::Timestamp::system_now().secs() + 600,
    )
    .expect("mint");
    for bad in [forged.as_str(), staff.as_str(), wrong_key.as_str(), "garbage"] {
        let (code, _) = problem(app.get_as(bad, "/me").await).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{bad} passed as a session");
    }
    let (code, _) = problem(app.get("/me").await).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "no session");

    // A customer session never passes staff auth.
    for path in ["/admin/stock", "/admin/customers/ann@example.com/credits"] {
        let (code, _) = problem(app.get_as(&session, path).await).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_answer_is_the_same_for_any_address_and_the_link_stays_out_of_the_event_log() {
    let app = spawn_app().await;
    app.add_stock(1).await;
    app.buy_body(json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments"})).await;
    let known = app.post("/auth/link", json!({"email": "ann@example.com"})).await;
    let unknown = app.post("/auth/link", json!({"email": "nobody@example.com"})).await;
    assert_eq!((known.status(), unknown.status()), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let (k, u): (Value, Value) = (known.json().await.expect("json"), unknown.json().await.expect("json"));
    assert_eq!(k, u);
    let (code, _) = problem(app.post("/auth/link", json!({"email": "not an address"})).await).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    // The purchase's own mails go out beside it, in no set order: find the
    // sign-in mail by its subject.
    let mut texts = Vec::new();
    for _ in 0..100 {
        texts = app.sign_in_texts("ann@example.com");
        if !texts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(texts.len(), 1, "one sign-in mail for the known address");
    let text = &texts[0];
    let token = stockroom_tests::signin::link_token(text).expect("link");
    assert!(text.contains("/account?token="), "{text}");
    // Nothing handed on (events queue, webhooks, event log) holds it.
    let all = app.all_events().await;
    assert!(!all.is_empty(), "the purchase's events were handed on");
    for e in all {
        assert!(!e.to_string().contains(&token), "an event carries the link: {e}");
    }
    let log = app.get_admin("/admin/events?limit=100").await;
    assert!(!log.to_string().contains(&token) && !log.to_string().contains("sign_in"), "{log}");
}

#[tokio::test]
async fn links_past_the_per_email_limit_are_429_with_retry_after() {
    let app = spawn_app_with(|c| c.limits.signin_per_email = 2).await;
    for _ in 0..2 {
        assert_eq!(app.post("/auth/link", json!({"email": "ann@example.com"})).await.status(), StatusCode::ACCEPTED);
    }
    let r = app.post("/auth/link", json!({"email": "ann@example.com"})).await;
    let retry: u64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    let (code, p) = problem(r).await;
    assert_eq!(
        (code, p["type"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("https://stockroom.dev/problems/rate-limited"))
    );
    assert_eq!(app.mails_to("ann@example.com").len(), 2, "a refused request mails nothing");
    assert_eq!(app.post("/auth/link", json!({"email": "bob@example.com"})).await.status(), StatusCode::ACCEPTED);
    // A new window.
    app.post("/sandbox/clock", json!({"advance_seconds": 3600})).await;
    assert_eq!(app.post("/auth/link", json!({"email": "ann@example.com"})).await.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn links_past_the_per_address_limit_are_429() {
    let app = spawn_app_with(|c| {
        c.limits.signin_per_email = 0;
        c.limits.signin_per_ip = 3;
    })
    .await;
    for i in 0..3 {
        let r = app.post("/auth/link", json!({"email": format!("b{i}@example.com")})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let r = app.post("/auth/link", json!({"email": "b9@example.com"})).await;
    assert!(r.headers().contains_key("retry-after"));
    let (code, _) = problem(r).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    assert!(app.mails_to("b9@example.com").is_empty());
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

fn b64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
