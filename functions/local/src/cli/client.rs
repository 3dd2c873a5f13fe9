//! The staff API over HTTP: base URL, bearer token, one-line errors that say
//! what went wrong (unreachable, refused token with the problem's detail).

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::{Client, Method, RequestBuilder, Url};
use serde_json::Value;

use super::Global;

pub struct Api {
    base: Url,
    token: String,
    http: Client,
}

impl Api {
    /// Checks the URL and finds a token (minting one for a local stack).
    pub fn connect(g: &Global) -> anyhow::Result<Api> {
        let base = Url::parse(&g.url).map_err(|e| anyhow!("--url '{}' is not a URL: {e}", g.url))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            bail!("--url '{}' must be an http(s) URL with a host", g.url);
        }
        let token = match g.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.to_string(),
            None if is_local(&base) => super::token::auto_admin()?,
            None => bail!(
                "no token for {base}: pass --token or set STOCKROOM_TOKEN (tokens are minted only for a local URL)"
            ),
        };
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .context("building the HTTP client")?;
        Ok(Api { base, token, http })
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.send(Method::GET, path, |r| r.query(query)).await
    }

    pub async fn post(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::POST, path, |r| r.json(&serde_json::json!({}))).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> anyhow::Result<Value> {
        let url = self.url(path)?;
        let what = format!("{method} {}", url.path());
        let req = build(self.http.request(method, url.clone()).bearer_auth(&self.token));
        let resp = req.send().await.map_err(|e| unreachable(&self.base, &e))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| anyhow!("{what}: reading the response: {e}"))?;
        if !status.is_success() {
            bail!("{what}: {}", refusal(status, &body));
        }
        serde_json::from_str(&body)
            .map_err(|e| anyhow!("{what}: the response is not JSON ({e}); is {} a Stockroom API?", self.base))
    }

    fn url(&self, path: &str) -> anyhow::Result<Url> {
        // Keep a base path (an API Gateway stage such as /prod).
        let joined = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        Url::parse(&joined).map_err(|e| anyhow!("bad URL {joined}: {e}"))
    }
}

fn is_local(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"))
}

fn unreachable(base: &Url, e: &reqwest::Error) -> anyhow::Error {
    let why = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        // The innermost cause says it best ("Connection refused", "dns error").
        let mut cause: &dyn std::error::Error = e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        cause.to_string()
    } else {
        e.to_string()
    };
    anyhow!("cannot reach {base}: {why} (is the stack running? check --url / STOCKROOM_URL)")
}

/// `401 Unauthorized: token expired (check --token / STOCKROOM_TOKEN)`.
fn refusal(status: reqwest::StatusCode, body: &str) -> String {
    let problem: Option<Value> = serde_json::from_str(body).ok();
    let detail = problem
        .as_ref()
        .and_then(|p| p.get("detail").or_else(|| p.get("title")))
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty());
    let mut line = status.to_string();
    if let Some(d) = detail {
        line = format!("{line}: {d}");
    }
    match status.as_u16() {
        401 => line.push_str(" (check --token / STOCKROOM_TOKEN)"),
        403 => line.push_str(" (this token's role may not do that)"),
        _ => {}
    }
    line
}
