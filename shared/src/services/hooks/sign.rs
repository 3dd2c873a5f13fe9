//! Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key,
//! "{id}.{timestamp}.{body}")), the key being the base64-decoded secret
//! after `whsec_`. Several signatures, space-separated, while a rotated
//! secret still signs. `verify` is what a merchant runs; tests use it too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;
/// How far `webhook-timestamp` may be from the verifier's clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A new secret: `whsec_` + base64 of random bytes.
pub fn new_secret() -> String {
    format!("{PREFIX}{}", STANDARD.encode(rand::random::<[u8; SECRET_BYTES]>()))
}

/// The key bytes of a secret (with or without `whsec_`).
fn key(secret: &str) -> Result<Vec<u8>, SignError> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    match STANDARD.decode(b64) {
        Ok(k) if !k.is_empty() => Ok(k),
        _ => Err(SignError::BadSecret),
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the secret is not whsec_ + base64")]
    BadSecret,
    #[error("a webhook-id, webhook-timestamp or webhook-signature header is missing or malformed")]
    BadHeaders,
    #[error("webhook-timestamp is more than 5 minutes from now")]
    Stale,
    #[error("no signature matches")]
    NoMatch,
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Result<Vec<u8>, SignError> {
    let mut m = <Hmac<Sha256>>::new_from_slice(key).map_err(|_| SignError::BadSecret)?;
    m.update(format!("{id}.{timestamp}.").as_bytes());
    m.update(body);
    Ok(m.finalize().into_bytes().to_vec())
}

/// One `v1,...` signature.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    Ok(format!("v1,{}", STANDARD.encode(mac(&key(secret)?, id, timestamp, body)?)))
}

/// The `webhook-signature` header: one signature per secret, in order.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignError> {
    let sigs: Vec<String> = secrets.into_iter().map(|s| sign(s, id, timestamp, body)).collect::<Result<_, _>>()?;
    Ok(sigs.join(" "))
}

/// Checks a delivery as a receiver would: the timestamp within
/// `TOLERANCE_SECS` of `now_secs`, and one `v1` signature made with
/// `secret` over exactly these body bytes (compared in constant time).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignError> {
    if id.is_empty() || signatures.is_empty() {
        return Err(SignError::BadHeaders);
    }
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignError::BadHeaders)?;
    if (now_secs - ts).abs() > TOLERANCE_SECS {
        return Err(SignError::Stale);
    }
    let want = mac(&key(secret)?, id, ts, body)?;
    let found = signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|b64| {
        // A signature that is not base64 is just not a match.
        STANDARD.decode(b64).is_ok_and(|got| bool::from(got.ct_eq(&want)))
    });
    if found { Ok(()) } else { Err(SignError::NoMatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's libraries' known answer ("sign function works").
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_published_vector() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), SIG);
        // The prefix is optional on the way in.
        assert_eq!(sign(&SECRET[6..], ID, TS, BODY).unwrap(), SIG);
    }

    #[test]
    fn verifies_the_published_vector_and_refuses_what_the_libraries_refuse() {
        let ts = TS.to_string();
        assert_eq!(verify(SECRET, ID, &ts, SIG, BODY, TS + 10), Ok(()));
        // Several signatures, other versions and junk among them.
        let many = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc {SIG} v1,!!!");
        assert_eq!(verify(SECRET, ID, &ts, &many, BODY, TS), Ok(()));
        assert_eq!(verify(SECRET, ID, &ts, SIG, br#"{"test": 2432232315}"#, TS), Err(SignError::NoMatch));
        assert_eq!(verify(SECRET, "msg_other", &ts, SIG, BODY, TS), Err(SignError::NoMatch));
        assert_eq!(verify(SECRET, ID, &ts, "v1,dawfeoifkpqwoekfpqoekf", BODY, TS), Err(SignError::NoMatch));
        assert_eq!(verify(SECRET, ID, &ts, &SIG[..8], BODY, TS), Err(SignError::NoMatch));
        assert_eq!(verify(SECRET, ID, &ts, "v1,", BODY, TS), Err(SignError::NoMatch));
        assert_eq!(verify(SECRET, ID, "hello", SIG, BODY, TS), Err(SignError::BadHeaders));
        assert_eq!(verify(SECRET, ID, &ts, SIG, BODY, TS + TOLERANCE_SECS + 1), Err(SignError::Stale));
        assert_eq!(verify(SECRET, ID, &ts, SIG, BODY, TS - TOLERANCE_SECS - 1), Err(SignError::Stale));
        assert_eq!(verify(SECRET, "", &ts, SIG, BODY, TS), Err(SignError::BadHeaders));
        assert_eq!(verify("whsec_***", ID, &ts, SIG, BODY, TS), Err(SignError::BadSecret));
    }

    #[test]
    fn a_new_secret_is_prefixed_base64_of_32_bytes_and_signs() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(key(&s).unwrap().len(), 32);
        assert_ne!(s, new_secret());
        let header = signature_header([s.as_str(), SECRET], ID, TS, BODY).unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], SIG);
        assert_eq!(verify(&s, ID, &TS.to_string(), &header, BODY, TS), Ok(()));
    }
}
