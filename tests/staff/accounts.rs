//! Staff accounts and sign-in: accounts audited, the mailed link once and
//! only to staff, sessions ending at once, and the TOTP second factor.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::services::accounts::totp;
use stockroom_tests::{TestApp, problem, s, signin::link_token, spawn_app, spawn_app_with};

use super::helpers::call;

pub(super) const BOSS: &str = "boss@shop.example";
const CLERK: &str = "clerk@shop.example";

pub(super) fn with_boss(c: &mut shared::config::Config) {
    c.mail.admin = Some(BOSS.into());
    // These tests ask for more links than one person would in an hour.
    c.limits.signin_per_email = 50;
}

/// The tokens of every staff sign-in mail to `email` so far.
fn links(app: &TestApp, email: &str) -> Vec<String> {
    app.mails_to(email)
        .into_iter()
        .filter(|(_, text)| text.contains("/console?token="))
        .filter_map(|(_, t)| link_token(&t))
        .collect()
}

/// `POST /auth/staff/link` (always 202) and the new link it mailed, if any.
/// Every `staff.changed` event so far, as (email, action, actor).
pub(super) async fn staff_changes(app: &TestApp) -> Vec<(String, String, String)> {
    let events = app.events("staff.changed").await;
    events.iter().map(|e| (s(&e["email"]), s(&e["action"]), s(&e["actor"]))).collect()
}

pub(super) async fn ask_link(app: &TestApp, email: &str) -> Option<String> {
    let before = links(app, email);
    let r = app.post("/auth/staff/link", json!({"email": email})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    // The mail is sent within the request; allow the file a moment anyway.
    for _ in 0..10 {
        if let Some(t) = links(app, email).into_iter().find(|t| !before.contains(t)) {
            return Some(t);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn session(app: &TestApp, token: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"token": token});
    if let Some(c) = code {
        body["totp"] = json!(c);
    }
    let r = app.post("/auth/staff/session", body).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A staff session for `email` through the mailed link (and `code`).
pub(super) async fn sign_in(app: &TestApp, email: &str, code: Option<&str>) -> (StatusCode, Value) {
    let token = ask_link(app, email).await.expect("a sign-in mail to a staff account");
    session(app, &token, code).await
}

pub(super) async fn signed_in(app: &TestApp, email: &str) -> String {
    let (status, v) = sign_in(app, email, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    s(&v["session_token"])
}

pub(super) async fn status(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> u16 {
    call(app, method, path, Some(token), body).await.status().as_u16()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64"))
        .expect("json")
}

#[tokio::test]
async fn accounts_are_added_changed_listed_and_removed_each_with_an_event() {
    let app = spawn_app_with(with_boss).await;
    let boss = signed_in(&app, BOSS).await;
    let add = json!({"email": CLERK, "role": "customer_service"});
    let r = call(&app, Method::POST, "/admin/staff", Some(&boss), Some(add)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["role"].as_str(), v["created_by"].as_str()),
        (Some("customer_service"), Some("staff:boss@shop.example"))
    );
    let change = json!({"email": "Clerk@Shop.example", "role": "inventory_manager"});
    assert_eq!(status(&app, Method::POST, "/admin/staff", &boss, Some(change)).await, 200);
    for bad in
        [json!({"email": "nope", "role": "admin"}), json!({"email": CLERK, "role": "owner"}), json!({"email": CLERK})]
    {
        let (code, _) = problem(call(&app, Method::POST, "/admin/staff", Some(&boss), Some(bad.clone())).await).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Nobody locks themselves out.
    let demote = json!({"email": BOSS, "role": "customer_service"});
    assert_eq!(status(&app, Method::POST, "/admin/staff", &boss, Some(demote)).await, 409);
    assert_eq!(status(&app, Method::DELETE, "/admin/staff/boss@shop.example", &boss, None).await, 409);

    let list: Value = call(&app, Method::GET, "/admin/staff", Some(&boss), None).await.json().await.unwrap();
    let found: Vec<(String, String)> =
        list["staff"].as_array().unwrap().iter().map(|a| (s(&a["email"]), s(&a["role"]))).collect();
    assert_eq!(found, [(BOSS.to_string(), "admin".to_string()), (CLERK.to_string(), "inventory_manager".to_string())]);
    assert!(list.to_string().find("totp_secret").is_none());

    assert_eq!(status(&app, Method::DELETE, "/admin/staff/clerk@shop.example", &boss, None).await, 204);
    assert_eq!(status(&app, Method::DELETE, "/admin/staff/clerk@shop.example", &boss, None).await, 404);
    let seen = staff_changes(&app).await;
    let by_boss = "staff:boss@shop.example".to_string();
    assert_eq!(
        seen,
        [
            (BOSS.into(), "added".into(), "config".into()),
            (CLERK.into(), "added".into(), by_boss.clone()),
            (CLERK.into(), "changed".into(), by_boss.clone()),
            (CLERK.into(), "removed".into(), by_boss),
        ]
    );
}

/// A 429 after a few tries would tell staff addresses from the rest if
/// only theirs were counted: every address is.
#[tokio::test]
async fn the_link_limit_answers_alike_for_staff_and_strangers() {
    let app = spawn_app_with(|c| {
        with_boss(c);
        c.limits.signin_per_email = 2;
    })
    .await;
    for who in [BOSS, "stranger@example.com"] {
        let codes = {
            let mut codes = Vec::new();
            for _ in 0..3 {
                codes.push(app.post("/auth/staff/link", json!({"email": who})).await.status().as_u16());
            }
            codes
        };
        assert_eq!(codes, [202, 202, 429], "{who}");
    }
}

#[tokio::test]
async fn a_link_goes_only_to_staff_and_signs_in_once() {
    let app = spawn_app_with(with_boss).await;
    assert_eq!(ask_link(&app, "stranger@example.com").await, None, "202 and no mail for a non-staff address");
    assert!(app.mails_to("stranger@example.com").is_empty());
    let token = ask_link(&app, BOSS).await.expect("the first admin gets a link");
    let (a, b) = tokio::join!(session(&app, &token, None), session(&app, &token, None));
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::UNAUTHORIZED], "{a:?} {b:?}");
    let won = if a.0 == StatusCode::OK { a.1 } else { b.1 };
    let jwt = s(&won["session_token"]);
    let c = claims(&jwt);
    assert_eq!((c["sub"].as_str(), c["role"].as_str()), (Some(BOSS), Some("admin")));
    assert!(c["sid"].as_str().is_some_and(|sid| sid.len() >= 16), "{c}");
    assert!((c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()) <= 8 * 3600, "8 h by default: {c}");
    assert_eq!(status(&app, Method::GET, "/admin/staff", &jwt, None).await, 200);
    // A customer link is no staff link, and a staff session is no customer one.
    let buyer = app.sign_in_link(BOSS).await;
    assert_eq!(session(&app, &buyer, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_as(&jwt, "/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn removing_or_disabling_an_account_or_signing_out_ends_its_session_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token();
    let add = |role: &str, disabled: bool| json!({"email": CLERK, "role": role, "disabled": disabled});
    assert_eq!(status(&app, Method::POST, "/admin/staff", &admin, Some(add("customer_service", false))).await, 201);
    let clerk = signed_in(&app, CLERK).await;
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 200);
    assert_eq!(status(&app, Method::GET, "/admin/staff", &clerk, None).await, 403);
    // A new role applies to the live session at once.
    assert_eq!(status(&app, Method::POST, "/admin/staff", &admin, Some(add("admin", false))).await, 200);
    assert_eq!(status(&app, Method::GET, "/admin/staff", &clerk, None).await, 200);
    assert_eq!(status(&app, Method::POST, "/admin/staff", &admin, Some(add("admin", true))).await, 200);
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 401, "disabled");
    assert_eq!(ask_link(&app, CLERK).await, None, "no link for a disabled account");
    // Enabled again (a role change re-enables too): sessions from before
    // the disable stay dead; a new sign-in works.
    assert_eq!(status(&app, Method::POST, "/admin/staff", &admin, Some(add("admin", false))).await, 200);
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 401, "enabled again: still ended");
    let again = signed_in(&app, CLERK).await;
    assert_eq!(status(&app, Method::GET, "/admin/stock", &again, None).await, 200, "a session after enabling");
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 401, "the old one still ended");

    assert_eq!(status(&app, Method::DELETE, "/admin/staff/clerk@shop.example", &admin, None).await, 204);
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 401, "removed: at once");
    // Added again: a new account; the old session stays dead.
    assert_eq!(status(&app, Method::POST, "/admin/staff", &admin, Some(add("admin", false))).await, 201);
    assert_eq!(status(&app, Method::GET, "/admin/stock", &clerk, None).await, 401, "an old session");

    let fresh = signed_in(&app, CLERK).await;
    assert_eq!(status(&app, Method::DELETE, "/admin/staff/me/session", &fresh, None).await, 204);
    assert_eq!(status(&app, Method::GET, "/admin/stock", &fresh, None).await, 401, "signed out");
    // Service tokens (no sid) have no session or account of their own.
    assert_eq!(status(&app, Method::DELETE, "/admin/staff/me/session", &admin, None).await, 404);
    assert_eq!(status(&app, Method::POST, "/admin/staff/me/totp", &admin, None).await, 404);
}

pub(super) fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buf = (buf << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// The code the app would show `advanced` seconds after now (the sandbox clock).
pub(super) fn code(secret: &[u8], advanced: i64) -> String {
    let now = shared::domain::Timestamp::system_now().secs() + advanced;
    format!("{:06}", totp::code_at(secret, now.div_euclid(totp::STEP_SECS)))
}

async fn advance(app: &TestApp, secs: i64) {
    let r = app.post("/sandbox/clock", json!({"advance_seconds": secs})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn totp_is_enrolled_confirmed_then_required_and_codes_work_once() {
    let app = spawn_app_with(with_boss).await;
    let boss = signed_in(&app, BOSS).await;
    let r = call(&app, Method::POST, "/admin/staff/me/totp", Some(&boss), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e: Value = r.json().await.unwrap();
    let secret = base32_decode(&s(&e["secret"]));
    assert_eq!(secret.len(), 20);
    assert!(s(&e["otpauth_uri"]).starts_with("otpauth://totp/Stockroom:boss%40shop.example?secret="), "{e}");
    let recovery: Vec<String> = e["recovery_codes"].as_array().unwrap().iter().map(s).collect();
    assert_eq!(recovery.len(), 8);

    // Not confirmed yet: sign-in needs no code.
    assert_eq!(sign_in(&app, BOSS, None).await.0, StatusCode::OK);
    let wrong = if code(&secret, 0) == "000000" { "111111" } else { "000000" };
    let confirm = |c: &str| json!({"code": c});
    assert_eq!(status(&app, Method::POST, "/admin/staff/me/totp/confirm", &boss, Some(confirm(wrong))).await, 400);
    let first = code(&secret, 0);
    assert_eq!(status(&app, Method::POST, "/admin/staff/me/totp/confirm", &boss, Some(confirm(&first))).await, 200);

    let (code_needed, _) = sign_in(&app, BOSS, None).await;
    assert_eq!(code_needed, StatusCode::UNAUTHORIZED);
    // The confirming code's time step is spent: replaying it is refused.
    assert_eq!(sign_in(&app, BOSS, Some(&first)).await.0, StatusCode::UNAUTHORIZED, "replayed");
    advance(&app, 30).await;
    let next = code(&secret, 30);
    let (ok, v) = sign_in(&app, BOSS, Some(&next)).await;
    assert_eq!(ok, StatusCode::OK, "{v}");
    assert_eq!(sign_in(&app, BOSS, Some(&next)).await.0, StatusCode::UNAUTHORIZED, "same step again");
    let list: Value = call(&app, Method::GET, "/admin/staff", Some(&boss), None).await.json().await.unwrap();
    assert_eq!(list["staff"][0]["totp"], true);

    // A recovery code stands in for a code, once; typed in capitals too.
    assert_eq!(sign_in(&app, BOSS, Some(&recovery[0].to_uppercase())).await.0, StatusCode::OK);
    assert_eq!(sign_in(&app, BOSS, Some(&recovery[0])).await.0, StatusCode::UNAUTHORIZED, "spent");
}

#[tokio::test]
async fn wrong_codes_are_limited_per_account() {
    let app = spawn_app_with(with_boss).await;
    let boss = signed_in(&app, BOSS).await;
    let e: Value = call(&app, Method::POST, "/admin/staff/me/totp", Some(&boss), None).await.json().await.unwrap();
    let secret = base32_decode(&s(&e["secret"]));
    let first = code(&secret, 0);
    let r = call(&app, Method::POST, "/admin/staff/me/totp/confirm", Some(&boss), Some(json!({"code": first}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen = Vec::new();
    for wrong in ["aaaaa-aaaaa", "bbbbb-bbbbb", "ccccc-ccccc", "ddddd-ddddd", "eeeee-eeeee", "fffff-fffff"] {
        seen.push(sign_in(&app, BOSS, Some(wrong)).await.0.as_u16());
    }
    assert_eq!(seen, [401, 401, 401, 401, 401, 429], "five wrong codes, then 429");
    let (code429, _) = sign_in(&app, BOSS, Some(&code(&secret, 0))).await;
    assert_eq!(code429, StatusCode::TOO_MANY_REQUESTS, "even a right code waits for the window");
}
