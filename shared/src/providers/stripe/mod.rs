//! Stripe webhooks: `Stripe-Signature: t=...,v1=...[,v1=...][,v0=...]`, where
//! v1 is the hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with the endpoint
//! secret (the whole `whsec_...` text, as Stripe's libraries use it).

mod header;
mod parse;
#[cfg(test)]
mod tests;

use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;

use super::secrets::usable;
use super::{SignatureError, WebhookVerifier, single_header};
use crate::domain::Timestamp;

pub use parse::parse;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone, Debug)]
pub struct StripeVerifier {
    /// Any of these may have signed (rotation). Empty ones are skipped.
    pub secrets: Vec<SecretString>,
    /// How far `t` may be from now, either way, in seconds.
    pub tolerance_secs: i64,
}

impl StripeVerifier {
    /// Stripe's libraries default to five minutes.
    pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

    pub fn new(secrets: Vec<SecretString>) -> Self {
        StripeVerifier { secrets, tolerance_secs: Self::DEFAULT_TOLERANCE_SECS }
    }
}

impl WebhookVerifier for StripeVerifier {
    fn verify(&self, headers: &http::HeaderMap, raw_body: &[u8], now: Timestamp) -> Result<(), SignatureError> {
        let header = header::SigHeader::parse(single_header(headers, SIGNATURE_HEADER)?)?;
        let signed = usable(&self.secrets).any(|key| {
            let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return false };
            // `t` exactly as sent: that text is what was signed.
            mac.update(header.t_text.as_bytes());
            mac.update(b".");
            mac.update(raw_body);
            // verify_slice compares in constant time.
            header.v1.iter().any(|sig| mac.clone().verify_slice(sig).is_ok())
        });
        if !signed {
            return Err(SignatureError::Mismatch);
        }
        // Checked after the signature, as Stripe's libraries do, so a forged
        // header learns nothing about our clock.
        if now.secs().abs_diff(header.t) > self.tolerance_secs.max(0).unsigned_abs() {
            return Err(SignatureError::Stale);
        }
        Ok(())
    }
}

/// The header Stripe would send for this body at time `t` (seconds).
pub fn signature_header(secret: &str, t: i64, raw_body: &[u8]) -> String {
    // HMAC takes keys of any length, so the error arm cannot happen.
    let v1 = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("{t}.").as_bytes());
            mac.update(raw_body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("t={t},v1={v1}")
}
