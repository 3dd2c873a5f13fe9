//! Outbound HTTP for merchant webhooks: a POST to a URL someone outside
//! chose, so the adapter checks where it really goes (server-side request
//! forgery) before and while it connects.

use std::time::Duration;

use async_trait::async_trait;

/// One delivery attempt.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// What the receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds, when the receiver sent one as a number.
    pub retry_after: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL may not be called from here (scheme, or an address inside
    /// the network); nothing was sent.
    #[error("refused: {0}")]
    Refused(String),
    /// No answer: DNS, connect, TLS, timeout, reset.
    #[error("{0}")]
    Failed(String),
}

#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether `url` may be called now (resolves its host and checks every
    /// address).
    async fn check(&self, url: &str) -> Result<(), SendError>;
    /// Checks as `check` does, then POSTs to an address it checked, without
    /// following redirects.
    async fn post(&self, req: Outgoing) -> Result<Answer, SendError>;
}

/// The sender of a context nobody wired one into: refuses everything, so
/// a missing wiring shows up as a clear error rather than a request.
#[derive(Debug, Default)]
pub struct Unwired;

#[async_trait]
impl WebhookSender for Unwired {
    async fn check(&self, _url: &str) -> Result<(), SendError> {
        Err(SendError::Refused("no webhook sender is wired into this context".into()))
    }
    async fn post(&self, _req: Outgoing) -> Result<Answer, SendError> {
        Err(SendError::Refused("no webhook sender is wired into this context".into()))
    }
}
