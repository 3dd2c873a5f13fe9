//! RFC 6238 time-based codes through `totp-rs`: HMAC-SHA1, 30 s steps, 6
//! digits (what every authenticator app assumes), one step either side
//! accepted for clock drift. Ours is only which step a code matched, since
//! each step is accepted once per account.

use totp_rs::{Algorithm, TOTP};

pub const STEP_SECS: i64 = 30;
const DIGITS: usize = 6;

fn totp(secret: &[u8], issuer: Option<&str>, account: &str) -> TOTP {
    // Unchecked: our secrets are 160 bits, and the RFC's test key is too.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS.unsigned_abs(),
        secret.to_vec(),
        issuer.map(str::to_string),
        account.to_string(),
    )
}

/// The code of `secret` at counter `step` (u32::MAX, never a code, for a
/// step before 1970).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(time) = u64::try_from(step.saturating_mul(STEP_SECS)) else { return u32::MAX };
    totp(secret, None, "").generate(time).parse().unwrap_or(u32::MAX)
}

/// The step `code` matches at `now_secs` (now, one before or one after),
/// if any. `code` must be exactly six digits.
pub fn matching_step(secret: &[u8], code: &str, now_secs: i64) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = now_secs.div_euclid(STEP_SECS);
    [now, now - 1, now + 1].into_iter().find(|s| code_at(secret, *s) == want)
}

/// RFC 4648 base32 without padding, as `otpauth://` secrets are written.
pub fn base32(bytes: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, bytes)
}

/// The URI authenticator apps read (Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    totp(secret, Some(issuer), account).get_url()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA1 rows (8 digits there; the low 6 here).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [(59, 94287082u32), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924)] {
            assert_eq!(code_at(secret, t / STEP_SECS), want % 1_000_000, "t={t}");
        }
        assert_eq!(code_at(secret, 20000000000 / STEP_SECS), 65353130 % 1_000_000);
    }

    #[test]
    fn drift_of_one_step_only_and_six_digits_only() {
        let secret = b"12345678901234567890";
        let code = format!("{:06}", code_at(secret, 100));
        assert_eq!(matching_step(secret, &code, 100 * STEP_SECS + 29), Some(100));
        assert_eq!(matching_step(secret, &code, 101 * STEP_SECS), Some(100));
        assert_eq!(matching_step(secret, &code, 102 * STEP_SECS), None);
        assert_eq!(matching_step(secret, "12345", 0), None);
        assert_eq!(matching_step(secret, "+12345", 0), None);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let uri = otpauth_uri("Stockroom", "ops@shop.example", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Stockroom:ops%40shop.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Stockroom"
        );
    }
}
