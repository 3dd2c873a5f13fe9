//! The HTTP calls both providers share: a deadline for the whole call,
//! bounded retries with jitter for calls that are safe to repeat, and the
//! mapping of what went wrong to `ProviderError`.

use std::fmt;
use std::time::Duration;

use anyhow::anyhow;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::ports::ProviderError;

/// Attempts for a call that is safe to repeat.
const MAX_ATTEMPTS: u32 = 3;
/// Backoff before the first retry; doubles after that, half of it jittered.
const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// A provider's answer is a few KiB; more than this is not one.
const MAX_BODY: usize = 1 << 20;
/// Longest provider message we pass on.
const MAX_MESSAGE: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Retry {
    /// Doing it twice does it once: GETs, Stripe POSTs with an
    /// Idempotency-Key, expiring a session.
    Safe,
    /// A repeat could create a second payment: one attempt only.
    Never,
}

/// One provider's API: where it is and how long a call may take.
#[derive(Clone, Debug)]
pub(super) struct Api {
    pub provider: &'static str,
    pub client: Client,
    /// Without a trailing slash.
    pub base: String,
    /// For a whole call, retries included.
    pub total: Duration,
}

/// An answer that is neither a transport failure, a 5xx nor a 429.
pub(super) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    what: String,
}

impl Api {
    /// Sends `method path` (with what `decorate` adds) until it gets an
    /// answer, the attempts run out or the call's deadline passes.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        retry: Retry,
        decorate: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Reply, ProviderError> {
        let what = format!("{method} {path}");
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + self.total;
        let attempts = if retry == Retry::Safe { MAX_ATTEMPTS } else { 1 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request = decorate(self.client.request(method.clone(), url.as_str())).timeout(remaining);
            let err = match exchange(request).await {
                Ok((status, body)) => return Ok(Reply { status, body, what }),
                Err(err) => err,
            };
            let pause = backoff(attempt);
            let time_left = deadline.saturating_duration_since(Instant::now());
            if attempt >= attempts || pause >= time_left {
                return Err(ProviderError::Unavailable(err.context(format!("{} {what}", self.provider))));
            }
            tracing::warn!(provider = self.provider, call = %what, attempt, error = %format!("{err:#}"), "retrying");
            tokio::time::sleep(pause).await;
        }
    }

    /// The body of a 2xx answer; any other answer as the error it means.
    pub(super) fn body(
        &self,
        reply: Reply,
        secret: &SecretString,
        message: fn(&[u8]) -> Option<String>,
    ) -> Result<Vec<u8>, ProviderError> {
        let Reply { status, body, what } = reply;
        let provider = self.provider;
        if status.is_success() {
            return Ok(body);
        }
        if !status.is_client_error() {
            return Err(ProviderError::Unavailable(anyhow!("{provider} {what}: unexpected HTTP {status}")));
        }
        let code = status.as_u16();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            // The message would quote (part of) the key; say what it means instead.
            return Err(ProviderError::Rejected(format!("{provider} refused our API key (HTTP {code})")));
        }
        let said = message(&body).map(|m| redact(&m, secret)).unwrap_or_else(|| "no message".into());
        Err(ProviderError::Rejected(format!("{provider}: {said} (HTTP {code})")))
    }

    /// A 2xx answer we cannot read: the provider is not behaving, so the
    /// caller treats it like an outage.
    pub(super) fn bad_answer(&self, what: &str, why: impl fmt::Display) -> ProviderError {
        ProviderError::Unavailable(anyhow!("{} {what}: unexpected answer: {why}", self.provider))
    }
}

/// One request. `Err` is what a retry may cure: no answer, a 5xx or a 429.
async fn exchange(request: RequestBuilder) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(anyhow!("answered HTTP {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(anyhow!("answer larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

fn transport(e: reqwest::Error) -> anyhow::Error {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    anyhow::Error::new(e).context(kind)
}

/// Half fixed, half random, so callers that failed together spread out.
fn backoff(attempt: u32) -> Duration {
    let step = BASE_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(8));
    let half = step / 2;
    half + Duration::from_millis(rand::random_range(0..=half.as_millis() as u64))
}

/// A provider's message, safe to log and show staff: no key of ours (Stripe
/// echoes a masked one), no control characters, not too long.
pub(super) fn redact(message: &str, secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    let unmasked = if secret.is_empty() { message.to_string() } else { message.replace(secret, "[redacted]") };
    let flat: String = unmasked.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let words: Vec<&str> = flat
        .split(' ')
        .map(|w| {
            let bare = w.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            if ["sk_", "rk_", "pk_", "whsec_"].iter().any(|p| bare.starts_with(p)) { "[redacted]" } else { w }
        })
        .collect();
    words.join(" ").chars().take(MAX_MESSAGE).collect()
}

/// Provider ids go into URL paths: only the characters real ids use.
pub(super) fn check_id(provider: &str, id: &str) -> Result<(), ProviderError> {
    let ok =
        !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        return Ok(());
    }
    let shown: String = id.chars().take(64).collect();
    Err(ProviderError::Rejected(format!("not a {provider} payment id: {shown:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_keys_and_control_characters() {
        let key = SecretString::from("sk_test_hunter2");
        let said = redact("Invalid API Key provided: sk_test_****ter2\nor sk_test_hunter2", &key);
        assert_eq!(said, "Invalid API Key provided: [redacted] or [redacted]");
        assert!(redact(&"x".repeat(1000), &key).len() <= MAX_MESSAGE);
        assert_eq!(redact("plain", &SecretString::from("")), "plain");
    }

    #[test]
    fn ids_are_plain_tokens() {
        for ok in ["5745459419", "cs_test_a1B2", "a-b"] {
            assert!(check_id("x", ok).is_ok(), "{ok}");
        }
        for bad in ["", "..", "a/b", "a?b", "é", &"1".repeat(256)] {
            assert!(matches!(check_id("x", bad), Err(ProviderError::Rejected(_))), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..=40 {
            let pause = backoff(attempt);
            let step = BASE_BACKOFF.saturating_mul(1 << (attempt - 1).min(8));
            assert!(pause >= step / 2 && pause <= step, "{attempt}: {pause:?}");
        }
    }
}
