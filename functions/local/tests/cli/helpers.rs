//! A local stack per test, and the CLI run as a child process against it.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use local::Running;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shared::config::LOCAL_JWT_SECRET;
use shared::http::auth::{Role, mint};
use tempfile::TempDir;

pub struct Stack {
    running: Option<Running>,
    pub dir: TempDir,
    pub url: String,
    pub client: Client,
}

pub async fn stack() -> Stack {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = local::test_config(dir.path()).expect("config");
    let running = local::start(cfg).await.expect("start the stack");
    let url = running.url();
    Stack { running: Some(running), dir, url, client: Client::new() }
}

/// What one run of the binary said.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// `key  value` lines as a map (the report tables).
    pub fn pairs(&self) -> HashMap<String, String> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once(char::is_whitespace))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect()
    }
}

/// Runs `stockroom ARGS` with a clean environment pointed at `url` and the
/// data directory `data`.
pub async fn cli_at(url: &str, data: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockroom"));
    for var in ["STOCKROOM_TOKEN", "STOCKROOM_JWT_SECRET", "STOCKROOM_BACKEND", "RUST_LOG", "PORT"] {
        cmd.env_remove(var);
    }
    cmd.env("STOCKROOM_URL", url).env("STOCKROOM_DATA", data).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run stockroom");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "no panics: {}", run.stderr);
    run
}

impl Stack {
    pub async fn cli(&self, args: &[&str]) -> Run {
        cli_at(&self.url, self.dir.path(), args, &[]).await
    }

    pub async fn cli_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        cli_at(&self.url, self.dir.path(), args, env).await
    }

    pub fn admin_token(&self) -> String {
        mint(
            &LOCAL_JWT_SECRET.to_string().into(),
            "test",
            Role::Admin,
            shared::domain::Timestamp::system_now().secs() + 3600,
        )
        .expect("mint")
    }

    pub async fn api(&self, method: &str, path: &str, token: &str) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "POST" => self.client.post(url).json(&json!({})),
            _ => self.client.get(url),
        };
        let r = req.bearer_auth(token).send().await.expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn stock(&self) -> Value {
        let (status, v) = self.api("GET", "/admin/stock", &self.admin_token()).await;
        assert_eq!(status, StatusCode::OK);
        v
    }

    /// Files straight into the store, then a reconcile adopts them.
    pub async fn add_stock(&self, names: &[&str]) {
        let unused = self.dir.path().join("files/unused");
        std::fs::create_dir_all(&unused).expect("mkdir");
        for n in names {
            std::fs::write(unused.join(n), format!("session {n}")).expect("write");
        }
        let (status, _) = self.api("POST", "/admin/reconcile", &self.admin_token()).await;
        assert_eq!(status, StatusCode::OK);
    }

    /// One open checkout, so a file is reserved.
    pub async fn hold_one(&self) {
        let body = json!({"email": "ann@example.com", "product_id": "bronze", "provider": "nowpayments"});
        let r = self.client.post(format!("{}/checkout", self.url)).json(&body).send().await.expect("checkout");
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }

    pub fn files_in(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("files").join(prefix))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Stops the stack; the data directory lives as long as the result.
    pub async fn stop(mut self) -> TempDir {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.dir
    }
}

/// A port nothing listens on.
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}
