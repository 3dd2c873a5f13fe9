//! Running one op against the stack over HTTP. Nothing here panics: a
//! failure comes back as an error naming the op, so a long run can print
//! the schedule that broke.

use std::sync::Mutex;

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::schedule::{Op, Payment};
use crate::{TestApp, s};

/// Orders and stock files the schedule has made so far, oldest first.
#[derive(Default)]
pub struct State {
    pub orders: Vec<String>,
    pub files: Vec<String>,
    /// Each order's (email, token), to buy add-ons for its subscription.
    pub owners: std::collections::HashMap<String, (String, String)>,
    /// Customer sessions by email, once signed in.
    pub sessions: std::collections::HashMap<String, String>,
}

pub async fn apply(app: &TestApp, state: &Mutex<State>, op: &Op) -> Result<(), String> {
    let nth = |list: fn(&State) -> &Vec<String>, i: usize| {
        let st = state.lock().unwrap_or_else(|p| p.into_inner());
        let l = list(&st);
        // Newest first: most ops are about recent orders and files.
        (!l.is_empty()).then(|| l[l.len() - 1 - i % l.len()].clone())
    };
    let admin = |path: &str, body: Value| {
        app.client.post(format!("{}{path}", app.url)).bearer_auth(app.admin_token()).json(&body)
    };
    let req = match op {
        Op::Restock(n) => return restock(app, state, *n).await,
        Op::Checkout { email, product, provider } => {
            let body =
                json!({"email": format!("buyer{email}@example.com"), "product_id": product, "provider": provider});
            return open(app, state, body, true).await.map(drop);
        }
        Op::Addon { order, product } => {
            let Some(id) = nth(|s| &s.orders, *order) else { return Ok(()) };
            let owner = state.lock().unwrap_or_else(|p| p.into_inner()).owners.get(&id).cloned();
            let Some((email, token)) = owner else { return Ok(()) };
            let r = send(app.client.get(format!("{}/orders/{id}", app.url)).bearer_auth(&token)).await?;
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            let Some(sub) = v["subscription"]["id"].as_str() else { return Ok(()) };
            let body = json!({"email": email, "product_id": product, "provider": "nowpayments", "subscription_id": sub, "order_token": token});
            return open(app, state, body, true).await.map(drop);
        }
        Op::Pay { order, payment, copies } => {
            let Some(id) = nth(|s| &s.orders, *order) else { return Ok(()) };
            let body = match payment {
                Payment::Full => json!({}),
                Payment::Short => json!({"amount": 1}),
                Payment::Expired => json!({"status": "expired"}),
                Payment::Failed => json!({"status": "failed"}),
                Payment::Refunded => json!({"status": "refunded"}),
            };
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..*copies {
                let req = app.client.post(format!("{}/sandbox/pay/{id}", app.url)).json(&body);
                tasks.spawn(async move { check(send(req).await?).await });
            }
            while let Some(r) = tasks.join_next().await {
                r.map_err(|e| e.to_string())??;
            }
            return Ok(());
        }
        Op::Gift { email, amount } => admin(
            "/admin/credits/gifts",
            json!({"email": format!("buyer{email}@example.com"), "amount": amount, "reason": "model test"}),
        ),
        Op::Spend { email, stranger } => {
            return spend(app, state, &format!("buyer{email}@example.com"), *stranger).await;
        }
        Op::Expire => admin("/admin/expire", json!({})),
        Op::Reconcile => admin("/admin/reconcile", json!({})),
        Op::Refund { order } => {
            let Some(id) = nth(|s| &s.orders, *order) else { return Ok(()) };
            admin(&format!("/admin/orders/{id}/refund"), json!({}))
        }
        Op::Adjust { action, file } => {
            let Some(name) = nth(|s| &s.files, *file) else { return Ok(()) };
            admin("/admin/stock/adjust", json!({"action": action, "files": [name], "reason": "model test"}))
        }
        Op::Clock(secs) => {
            app.client.post(format!("{}/sandbox/clock", app.url)).json(&json!({"advance_seconds": secs}))
        }
    };
    check(send(req).await?).await
}

/// A checkout; a new order joins the schedule's orders (with its owner, when
/// the schedule acts as that buyer). Its (id, token), if it was created.
async fn open(
    app: &TestApp,
    state: &Mutex<State>,
    body: Value,
    owned: bool,
) -> Result<Option<(String, String)>, String> {
    let r = send(app.client.post(format!("{}/checkout", app.url)).json(&body)).await?;
    if r.status() != 201 {
        return check(r).await.map(|()| None);
    }
    let v: Value = r.json().await.map_err(|e| e.to_string())?;
    let (id, token) = (s(&v["order_id"]), s(&v["order_token"]));
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    st.orders.push(id.clone());
    if owned {
        st.owners.insert(id.clone(), (s(&body["email"]), token.clone()));
    }
    Ok(Some((id, token)))
}

/// Spends `email`'s credits on a bronze plan. The oracle for who may: a
/// stranger (signed in as someone else, or not at all) must be refused; the
/// owner, signed in through a mailed link, may.
async fn spend(app: &TestApp, state: &Mutex<State>, email: &str, stranger: bool) -> Result<(), String> {
    let mut body = json!({"email": email, "product_id": "bronze", "provider": "nowpayments", "new": true});
    body["use_credits"] = json!(true);
    let who = if stranger { "stranger@example.com" } else { email };
    let Some(session) = session_of(app, state, who).await? else { return Ok(()) };
    let req = app.client.post(format!("{}/checkout", app.url)).bearer_auth(&session).json(&body);
    let r = send(req).await?;
    if r.status() == 401 {
        // Lapsed (the schedule moves the clock by weeks): sign in next time.
        state.lock().unwrap_or_else(|p| p.into_inner()).sessions.remove(who);
    }
    if stranger {
        if r.status().is_success() {
            return Err(format!(
                "a stranger's session spent {email}'s credits: {}",
                r.text().await.unwrap_or_default()
            ));
        }
        return check(r).await;
    }
    if r.status() != 201 {
        return check(r).await;
    }
    let v: Value = r.json().await.map_err(|e| e.to_string())?;
    let (id, token) = (s(&v["order_id"]), s(&v["order_token"]));
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    st.orders.push(id.clone());
    st.owners.insert(id, (email.to_string(), token));
    Ok(())
}

/// A customer session for `email` (kept for later ops), signed in through
/// the mailed link; `None` when the stack refuses a link now (its limits).
async fn session_of(app: &TestApp, state: &Mutex<State>, email: &str) -> Result<Option<String>, String> {
    // One sign-in at a time, so two ops of one step signing in the same
    // buyer share one session.
    static SIGNING_IN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = SIGNING_IN.lock().await;
    if let Some(t) = state.lock().unwrap_or_else(|p| p.into_inner()).sessions.get(email) {
        return Ok(Some(t.clone()));
    }
    // A step's clock op may lapse a link between its mail and its use:
    // then a new one.
    let mut last = String::new();
    for _ in 0..3 {
        let before = app.sign_in_tokens(email);
        let r = send(app.client.post(format!("{}/auth/link", app.url)).json(&json!({"email": email}))).await?;
        if r.status() != 202 {
            return check(r).await.map(|()| None);
        }
        let token = app
            .sign_in_tokens(email)
            .into_iter()
            .find(|t| !before.contains(t))
            .ok_or_else(|| format!("POST /auth/link answered 202 and mailed {email} no link"))?;
        let r = send(app.client.post(format!("{}/auth/session", app.url)).json(&json!({"token": token}))).await?;
        if r.status() == 200 {
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            let session = s(&v["session_token"]);
            state.lock().unwrap_or_else(|p| p.into_inner()).sessions.insert(email.to_string(), session.clone());
            return Ok(Some(session));
        }
        last = r.text().await.unwrap_or_default();
    }
    Err(format!("three fresh sign-in links were refused: {last}"))
}

/// New files under unused/, as an upload puts them, then a reconcile that
/// adopts them (concurrently with whatever else the step does).
async fn restock(app: &TestApp, state: &Mutex<State>, n: usize) -> Result<(), String> {
    let mut names = Vec::new();
    for _ in 0..n {
        let name = format!("acct-{}.session", ulid::Ulid::new().to_string().to_lowercase());
        app.ctx().files.put(&format!("unused/{name}"), b"session".to_vec(), true).await.map_err(|e| e.to_string())?;
        names.push(name);
    }
    state.lock().unwrap_or_else(|p| p.into_inner()).files.extend(names);
    let req = app.client.post(format!("{}/admin/reconcile", app.url)).bearer_auth(app.admin_token()).json(&json!({}));
    check(send(req).await?).await
}

pub async fn send(req: RequestBuilder) -> Result<reqwest::Response, String> {
    req.send().await.map_err(|e| format!("request failed: {e}"))
}

/// Refusals (4xx) are fine; a server error is a bug.
pub async fn check(r: reqwest::Response) -> Result<(), String> {
    if r.status().is_server_error() {
        return Err(format!("{}: {}", r.status(), r.text().await.unwrap_or_default()));
    }
    Ok(())
}
