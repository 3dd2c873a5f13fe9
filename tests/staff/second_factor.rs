//! Replacing a second factor takes a code of it: a staff session alone (a
//! stolen token) cannot swap the factor and lock its owner out.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stockroom_tests::{TestApp, problem, s, spawn_app_with};

use super::accounts::{BOSS, base32_decode, code, sign_in, signed_in, staff_changes, status, with_boss};
use super::helpers::call;

const ENROL: &str = "/admin/staff/me/totp";
const CONFIRM: &str = "/admin/staff/me/totp/confirm";

/// A new enrolment by `token` (with `body`): its secret and recovery codes.
async fn enrol(app: &TestApp, token: &str, body: Option<Value>) -> (Vec<u8>, Vec<String>) {
    let r = call(app, Method::POST, ENROL, Some(token), body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e: Value = r.json().await.unwrap();
    (base32_decode(&s(&e["secret"])), e["recovery_codes"].as_array().unwrap().iter().map(s).collect())
}

async fn confirm(app: &TestApp, token: &str, code: &str) -> u16 {
    status(app, Method::POST, CONFIRM, token, Some(json!({"code": code}))).await
}

/// A six-digit code that none of the accepted steps of `secret` shows.
fn wrong(secret: &[u8]) -> String {
    let taken = [code(secret, -30), code(secret, 0), code(secret, 30)];
    (0..4).map(|d| format!("{d}{d}{d}{d}{d}{d}")).find(|c| !taken.contains(c)).unwrap_or_default()
}

#[tokio::test]
async fn a_session_alone_cannot_replace_the_second_factor() {
    let app = spawn_app_with(with_boss).await;
    let boss = signed_in(&app, BOSS).await;
    // A first enrolment needs no code, as before.
    let (old, old_recovery) = enrol(&app, &boss, None).await;
    assert_eq!(confirm(&app, &boss, &code(&old, -30)).await, 200);

    for body in [None, Some(json!({})), Some(json!({"code": wrong(&old)})), Some(json!({"code": "zzzzz-zzzzz"}))] {
        let r = call(&app, Method::POST, ENROL, Some(&boss), body.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let (_, p) = problem(r).await;
        assert_eq!(p["type"], "https://stockroom.dev/problems/invalid-request", "{p}");
    }
    // Nothing changed: no enrolment waits, and sign-in still asks the old factor.
    assert_eq!(confirm(&app, &boss, &code(&old, 0)).await, 409);
    assert_eq!(sign_in(&app, BOSS, None).await.0, StatusCode::UNAUTHORIZED);

    // With a current code of the old factor: replaced.
    let (new, new_recovery) = enrol(&app, &boss, Some(json!({"code": code(&old, 0)}))).await;
    assert_eq!(confirm(&app, &boss, &code(&new, 30)).await, 200);
    assert_eq!(sign_in(&app, BOSS, Some(&old_recovery[0])).await.0, StatusCode::UNAUTHORIZED, "the old factor");
    assert_eq!(sign_in(&app, BOSS, Some(&new_recovery[0])).await.0, StatusCode::OK, "the new one");

    let seen = staff_changes(&app).await;
    let by_boss = "staff:boss@shop.example".to_string();
    assert_eq!(
        seen,
        [
            (BOSS.into(), "added".into(), "config".into()),
            (BOSS.into(), "totp_enrolled".into(), by_boss.clone()),
            (BOSS.into(), "totp_replaced".into(), by_boss),
        ]
    );
}

#[tokio::test]
async fn a_recovery_code_replaces_a_lost_factor_once() {
    let app = spawn_app_with(with_boss).await;
    let boss = signed_in(&app, BOSS).await;
    // A body of `null` is no code, as no body is.
    let (old, recovery) = enrol(&app, &boss, Some(Value::Null)).await;
    assert_eq!(confirm(&app, &boss, &code(&old, 0)).await, 200);

    let (new, _) = enrol(&app, &boss, Some(json!({"code": recovery[0].to_uppercase()}))).await;
    assert_eq!(confirm(&app, &boss, &code(&new, 30)).await, 200);
    let again = call(&app, Method::POST, ENROL, Some(&boss), Some(json!({"code": recovery[0]}))).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "spent, and of the old factor");
    problem(again).await;
}
