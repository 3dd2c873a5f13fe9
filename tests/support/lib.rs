//! `spawn_app` and friends: each test gets its own stack on port 0 with its
//! own data directory, and talks to it over HTTP like a storefront would.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use local::Running;
use reqwest::{Client, Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::config::{
    Config, LOCAL_JWT_SECRET, LOCAL_NOWPAYMENTS_IPN_SECRET, LOCAL_SERVICE_TOKEN, LOCAL_STRIPE_WEBHOOK_SECRET,
};
use shared::http::auth::{Role, mint};
use shared::ports::PaymentGateway;
use shared::services::Ctx;
use tempfile::TempDir;

mod backend;
pub use backend::on_aws;
pub mod gateway;
pub mod model;
pub mod signin;
pub mod webhooks;

pub struct TestApp {
    running: Option<Running>,
    pub dir: TempDir,
    pub client: Client,
    pub url: String,
    tweak: fn(&mut Config),
    gateway: Option<Arc<dyn PaymentGateway>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A stack with some settings changed from the test defaults.
pub async fn spawn_app_with(tweak: fn(&mut Config)) -> TestApp {
    spawn(tweak, None).await
}

/// A stack whose payment provider is scripted by the test.
pub async fn spawn_app_with_gateway(gateway: Arc<dyn PaymentGateway>) -> TestApp {
    spawn(|_| {}, Some(gateway)).await
}

/// A stack whose data directory is made under `parent`.
pub async fn spawn_app_in(parent: &Path) -> TestApp {
    spawn_in(tempfile::tempdir_in(parent).expect("temp dir"), |_| {}, None).await
}

async fn spawn(tweak: fn(&mut Config), gateway: Option<Arc<dyn PaymentGateway>>) -> TestApp {
    spawn_in(tempfile::tempdir().expect("temp dir"), tweak, gateway).await
}

async fn spawn_in(dir: TempDir, tweak: fn(&mut Config), gateway: Option<Arc<dyn PaymentGateway>>) -> TestApp {
    // The stack's warnings and errors (RUST_LOG to change), printed with a
    // failing test's output: why a worker step did not happen shows there.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    // Boxed: the AWS backend's start is a deep future type, and every test
    // awaiting it would otherwise hit the compiler's query depth limit.
    let running = Box::pin(start(&dir, tweak, gateway.clone())).await;
    TestApp { url: running.url(), running: Some(running), dir, client: Client::new(), tweak, gateway }
}

async fn start(dir: &TempDir, tweak: fn(&mut Config), gateway: Option<Arc<dyn PaymentGateway>>) -> Running {
    let mut cfg = local::test_config(dir.path()).expect("config");
    tweak(&mut cfg);
    let options = backend::options(&mut cfg, dir, gateway);
    local::start_with(cfg, options).await.expect("start the stack")
}

impl TestApp {
    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.running.as_ref().expect("running").state.ctx
    }

    /// Stops the stack and starts it again on the same data directory.
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let r = start(&self.dir, self.tweak, self.gateway.clone()).await;
        self.url = r.url();
        self.running = Some(r);
    }

    pub fn admin_token(&self) -> String {
        self.staff_token(Role::Admin)
    }

    pub fn staff_token(&self, role: Role) -> String {
        let exp = shared::domain::Timestamp::system_now().secs() + 3600;
        mint(&SecretString::from(LOCAL_JWT_SECRET), "tester", role, exp).expect("mint")
    }

    /// Puts `n` new stock files into unused/ and has them adopted.
    pub async fn add_stock(&self, n: usize) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..n {
            let name = format!("acct-{}.session", ulid::Ulid::new().to_string().to_lowercase());
            self.ctx().files.put(&format!("unused/{name}"), b"session".to_vec(), true).await.expect("put stock file");
            names.push(name);
        }
        let r = self.post_admin("/admin/reconcile", json!({})).await;
        assert_eq!(r.status(), StatusCode::OK, "reconcile: {:?}", r.text().await);
        names
    }

    /// Every storage key under a prefix.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.ctx().files.list(prefix, after.as_deref(), 1000).await.expect("list");
            out.extend(page.keys);
            match page.next {
                Some(k) => after = Some(k),
                None => return out,
            }
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.url)).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client.post(format!("{}{path}", self.url)).json(&body).send().await.expect("POST")
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Response {
        let mut req =
            self.client.post(format!("{}{path}", self.url)).body(body).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.send().await.expect("POST")
    }

    pub async fn post_admin(&self, path: &str, body: Value) -> Response {
        let t = self.admin_token();
        self.client.post(format!("{}{path}", self.url)).bearer_auth(t).json(&body).send().await.expect("POST")
    }

    pub async fn checkout(&self, product: &str, provider: &str) -> Response {
        self.post("/checkout", json!({"email": "buyer@example.com", "product_id": product, "provider": provider})).await
    }

    /// A successful checkout: (order_id, order_token, body).
    pub async fn checkout_ok(&self, product: &str, provider: &str) -> (String, String, Value) {
        let r = self.checkout(product, provider).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.expect("json");
        (s(&body["order_id"]), s(&body["order_token"]), body)
    }

    pub async fn sandbox_pay(&self, order_id: &str, body: Value) -> Value {
        let r = self.post(&format!("/sandbox/pay/{order_id}"), body).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("json")
    }

    pub async fn order(&self, order_id: &str, token: &str) -> Value {
        let r =
            self.client.get(format!("{}/orders/{order_id}", self.url)).bearer_auth(token).send().await.expect("GET");
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("json")
    }

    /// Polls `check` until it holds, for up to 20 s: the worker is
    /// asynchronous, and a fixed sleep fails on a loaded machine.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..400 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: not within 20 s");
    }

    /// Polls the order until it reaches `status` (the worker is asynchronous).
    pub async fn wait_for(&self, order_id: &str, token: &str, status: &str) -> Value {
        for _ in 0..200 {
            let o = self.order(order_id, token).await;
            if o["status"] == status {
                return o;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("order {order_id} never became {status}: {}", self.order(order_id, token).await);
    }

    /// What the bot engine sees for a subscription.
    pub async fn entitlement(&self, sub: &str) -> Value {
        let url = format!("{}/subscriptions/{sub}/entitlement", self.url);
        let r = self.client.get(url).bearer_auth(LOCAL_SERVICE_TOKEN).send().await.expect("GET");
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.expect("json")
    }

    pub fn nowpayments_secret(&self) -> &'static str {
        LOCAL_NOWPAYMENTS_IPN_SECRET
    }

    pub fn stripe_secret(&self) -> &'static str {
        LOCAL_STRIPE_WEBHOOK_SECRET
    }

    /// A GET with an admin token that must answer 200: its JSON.
    pub async fn get_admin(&self, path: &str) -> Value {
        let r =
            self.client.get(format!("{}{path}", self.url)).bearer_auth(self.admin_token()).send().await.expect("GET");
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("json")
    }

    /// Pays a checkout body and waits for it: the order as the buyer sees
    /// it, with its token.
    pub async fn buy_body(&self, body: Value) -> Value {
        let r = self.post("/checkout", body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let c: Value = r.json().await.expect("json");
        self.sandbox_pay(&s(&c["order_id"]), json!({})).await;
        let mut o = self.wait_for(&s(&c["order_id"]), &s(&c["order_token"]), "fulfilled").await;
        o["order_token"] = c["order_token"].clone();
        o
    }

    /// The data of events of one type on the events queue (all are taken
    /// off it), once the stack's dispatcher has handed on what the outbox held.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        self.all_events().await.into_iter().filter(|e| e["type"] == kind).map(|e| e["data"].clone()).collect()
    }

    /// Every event on the events queue, whole (`{id, type, timestamp,
    /// data}`), taken off it once the outbox is empty. The queue is
    /// at-least-once (a dispatch may be sent again before its outbox item is
    /// marked), so a copy of an id already taken is dropped, as any
    /// consumer keyed on the event id would.
    pub async fn all_events(&self) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let pending = shared::services::store::outbox::pending(self.ctx(), 1).next_page().await.expect("outbox");
            if pending.is_none_or(|p| p.is_empty()) || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut out = Vec::new();
        loop {
            let batch = self.ctx().events.receive(10, Duration::from_secs(600)).await.expect("receive");
            if batch.is_empty() {
                return out;
            }
            for m in batch {
                self.ctx().events.delete(&m.receipt).await.expect("delete");
                let event: Value = serde_json::from_str(&m.body).expect("event json");
                if !out.iter().any(|e| e["id"] == event["id"]) {
                    out.push(event);
                }
            }
        }
    }

    /// Ledger entries of one kind (read straight from the store).
    pub async fn ledger_count(&self, kind: &str) -> usize {
        use shared::ports::{Index, Query};
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self
                .ctx()
                .records
                .query(Query::new(Index::Table, "LEDGER").limit(500).after(cursor))
                .await
                .expect("ledger");
            n += page.items.iter().filter(|i| i.get("kind").and_then(Value::as_str) == Some(kind)).count();
            match page.next {
                Some(c) => cursor = Some(c),
                None => return n,
            }
        }
    }
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

pub async fn problem(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(ct, "application/problem+json", "errors are problem+json");
    let body: Value = r.json().await.expect("problem json");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().is_some() && body["title"].as_str().is_some() && body["detail"].as_str().is_some());
    (status, body)
}
