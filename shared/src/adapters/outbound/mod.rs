//! The merchant webhooks' HTTP client (reqwest). Every request resolves the
//! host itself, checks every address (`address`), and connects only to
//! those: a DNS answer that changes between the check and the connection
//! cannot move the request inside the network. No proxy, no redirects.

pub mod address;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::redirect::Policy;

use crate::ports::{Answer, Outgoing, SendError, WebhookSender};

/// Longest a DNS look-up may take (inside the request's own timeout).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub struct HttpSender {
    /// Loopback and private addresses, and plain http, are allowed (the
    /// local stack). Off on AWS.
    pub allow_private: bool,
}

impl HttpSender {
    pub fn new(allow_private: bool) -> Self {
        HttpSender { allow_private }
    }

    /// The URL parsed, its scheme checked, its host resolved and every
    /// address checked.
    async fn resolve(&self, url: &str) -> Result<(Url, String, Vec<SocketAddr>), SendError> {
        let refused = |why: String| SendError::Refused(why);
        let url = Url::parse(url).map_err(|e| refused(format!("not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => return Err(refused("https is required".into())),
            other => return Err(refused(format!("scheme {other} is not http(s)"))),
        }
        // An IPv6 literal comes bracketed ("[::1]").
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
            _ => return Err(refused("the URL has no host".into())),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
                    .await
                    .map_err(|_| SendError::Failed(format!("resolving {host} timed out")))?
                    .map_err(|e| SendError::Failed(format!("resolving {host}: {e}")))?;
                found.collect()
            }
        };
        if addrs.is_empty() {
            return Err(SendError::Failed(format!("{host} has no address")));
        }
        for a in &addrs {
            address::allowed(a.ip(), self.allow_private).map_err(|why| refused(format!("{host}: {why}")))?;
        }
        Ok((url, host, addrs))
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn check(&self, url: &str) -> Result<(), SendError> {
        self.resolve(url).await.map(|_| ())
    }

    async fn post(&self, req: Outgoing) -> Result<Answer, SendError> {
        let (url, host, addrs) = self.resolve(&req.url).await?;
        let failed = |e: reqwest::Error| SendError::Failed(describe(&e));
        // A client per request: its resolver is pinned to the addresses just
        // checked (the system resolver is never asked again).
        let client = reqwest::Client::builder()
            .resolve_to_addrs(&host, &addrs)
            .redirect(Policy::none())
            .no_proxy()
            .timeout(req.timeout)
            .build()
            .map_err(failed)?;
        let mut request = client.post(url).body(req.body);
        for (name, value) in &req.headers {
            request = request.header(name, value);
        }
        let resp = request.send().await.map_err(failed)?;
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(Answer { status: resp.status().as_u16(), retry_after })
    }
}

/// The reason a request got no answer, without the URL (reqwest puts it
/// in the message; the delivery log has it already).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        "could not build the request"
    } else {
        "request failed"
    };
    let mut cause = std::error::Error::source(e);
    let mut last = None;
    while let Some(c) = cause {
        last = Some(c.to_string());
        cause = c.source();
    }
    match last {
        Some(c) => format!("{what}: {c}"),
        None => what.to_string(),
    }
}

#[cfg(test)]
mod tests;
