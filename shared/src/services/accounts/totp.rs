//! RFC 6238 time-based codes: HMAC-SHA1, 30 s steps, 6 digits (what every
//! authenticator app assumes), one step either side accepted for clock drift.

use hmac13::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;

/// The RFC 4226 code of `secret` at counter `step`.
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        return u32::MAX; // never a 6-digit code
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// The step `code` matches at `now_secs` (now, one before or one after),
/// if any. `code` must be exactly six digits.
pub fn matching_step(secret: &[u8], code: &str, now_secs: i64) -> Option<i64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = now_secs.div_euclid(STEP_SECS);
    [now, now - 1, now + 1].into_iter().find(|s| code_at(secret, *s) == want)
}

/// RFC 4648 base32 without padding, as `otpauth://` secrets are written.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The URI authenticator apps read (Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
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
}
