//! NOWPayments IPN: `x-nowpayments-sig` is the hex HMAC-SHA512, keyed with
//! the IPN secret, of the body re-serialised with keys sorted recursively and
//! no whitespace.
//!
//! What is hashed: number tokens exactly as received (see `canonical`), and
//! strings escaped either Python's way (`ensure_ascii`, NOWPayments' documented
//! reference) or `JSON.stringify`'s way (non-ASCII as is). Both forms are keyed
//! with our secret, so accepting either lets no one else sign.

mod parse;
#[cfg(test)]
mod tests;

use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha512;

use super::canonical::{Escape, Node};
use super::secrets::usable;
use super::{ParseError, SignatureError, WebhookVerifier, single_header};
use crate::domain::Timestamp;

pub use parse::parse;

pub const SIGNATURE_HEADER: &str = "x-nowpayments-sig";

type HmacSha512 = Hmac<Sha512>;

#[derive(Clone, Debug)]
pub struct NowPaymentsVerifier {
    /// Any of these may have signed (rotation). Empty ones are skipped.
    pub secrets: Vec<SecretString>,
}

impl NowPaymentsVerifier {
    pub fn new(secrets: Vec<SecretString>) -> Self {
        NowPaymentsVerifier { secrets }
    }
}

impl WebhookVerifier for NowPaymentsVerifier {
    /// NOWPayments signs no timestamp, so `now` is not used: replays are
    /// harmless because a delivery is deduplicated by (payment_id, status).
    fn verify(&self, headers: &http::HeaderMap, raw_body: &[u8], _now: Timestamp) -> Result<(), SignatureError> {
        let sig = hex::decode(single_header(headers, SIGNATURE_HEADER)?)
            .map_err(|_| SignatureError::Malformed("signature is not hex"))?;
        if sig.len() != 64 {
            return Err(SignatureError::Malformed("signature is not 128 hex digits"));
        }
        // A body we cannot canonicalise cannot be what was signed.
        let node = Node::parse(raw_body).map_err(|_| SignatureError::Mismatch)?;
        let ascii = node.render(Escape::Ascii);
        let utf8 = node.render(Escape::Utf8);
        let forms: &[&str] = if ascii == utf8 { &[&ascii] } else { &[&ascii, &utf8] };
        for key in usable(&self.secrets) {
            let Ok(keyed) = HmacSha512::new_from_slice(key) else { continue };
            for form in forms {
                let mut mac = keyed.clone();
                mac.update(form.as_bytes());
                // verify_slice compares in constant time.
                if mac.verify_slice(&sig).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(SignatureError::Mismatch)
    }
}

/// The signature NOWPayments would send for these exact body bytes (Python
/// style). Sign the bytes you send: numbers are hashed as written there.
pub fn sign(secret: &str, raw_body: &[u8]) -> Result<String, ParseError> {
    Ok(sign_canonical(secret, &Node::parse(raw_body)?.render(Escape::Ascii)))
}

/// The signature for a body that will be sent as `serde_json::to_vec(body)`.
pub fn sign_value(secret: &str, body: &serde_json::Value) -> String {
    sign_canonical(secret, &Node::from_value(body).render(Escape::Ascii))
}

fn sign_canonical(secret: &str, canonical: &str) -> String {
    // HMAC takes keys of any length, so the error arm cannot happen.
    match HmacSha512::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(canonical.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}
