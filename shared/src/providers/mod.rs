//! Payment providers' webhook schemes: verification over the raw body, parsing
//! into `PaymentEvent`, and signing (for the sandbox and tests).
//!
//! Order of use at the edge: `WebhookVerifier::verify` on the raw bytes first
//! (`SignatureError` -> 401), then the provider's `parse` (`ParseError` -> 400).

mod canonical;
mod fields;
pub mod nowpayments;
mod secrets;
pub mod stripe;

#[cfg(test)]
mod proptests;

use crate::domain::Timestamp;

pub use nowpayments::NowPaymentsVerifier;
pub use secrets::secret_list;
pub use stripe::StripeVerifier;

/// Checks a webhook's signature over the exact bytes received.
pub trait WebhookVerifier: Send + Sync {
    fn verify(&self, headers: &http::HeaderMap, raw_body: &[u8], now: Timestamp) -> Result<(), SignatureError>;
}

/// Why a webhook is not trusted. Every variant is an HTTP 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature header missing")]
    Missing,
    #[error("signature header malformed: {0}")]
    Malformed(&'static str),
    #[error("signature does not match")]
    Mismatch,
    #[error("signature timestamp outside the tolerance")]
    Stale,
}

/// The one value of a header, as text.
pub(crate) fn single_header<'h>(headers: &'h http::HeaderMap, name: &str) -> Result<&'h str, SignatureError> {
    use SignatureError::{Malformed, Missing};
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(Missing)?;
    if values.next().is_some() {
        return Err(Malformed("header sent more than once"));
    }
    value.to_str().map(str::trim).map_err(|_| Malformed("header is not visible ASCII"))
}

/// A verified body that is not the provider's JSON. An HTTP 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is not a JSON object")]
    NotObject,
    #[error("JSON nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("missing field `{0}`")]
    Missing(String),
    #[error("field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}
