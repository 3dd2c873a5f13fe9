//! The `Stripe-Signature` header's parts.

use crate::providers::SignatureError;

pub(super) struct SigHeader<'h> {
    /// The timestamp's text, which is what was signed.
    pub t_text: &'h str,
    pub t: i64,
    /// Every v1 signature (several while Stripe rolls a secret).
    pub v1: Vec<Vec<u8>>,
}

impl<'h> SigHeader<'h> {
    /// `t=..,v1=..`: v0 and unknown schemes are ignored; a missing or repeated
    /// `t`, no v1, a v1 that is not 64 hex digits or a part without `=` is
    /// malformed.
    pub(super) fn parse(value: &'h str) -> Result<Self, SignatureError> {
        use SignatureError::Malformed;
        let mut t = None;
        let mut v1 = Vec::new();
        for part in value.split(',') {
            let (scheme, text) = part.trim().split_once('=').ok_or(Malformed("part without '='"))?;
            match scheme {
                "t" if t.is_some() => return Err(Malformed("t given twice")),
                "t" => t = Some(text),
                "v1" => match hex::decode(text) {
                    Ok(sig) if sig.len() == 32 => v1.push(sig),
                    _ => return Err(Malformed("v1 is not 64 hex digits")),
                },
                _ => {}
            }
        }
        let t_text = t.ok_or(Malformed("no t"))?;
        // Digits only: no sign, no spaces, fits an i64.
        let digits_only = !t_text.is_empty() && t_text.len() <= 18 && t_text.bytes().all(|b| b.is_ascii_digit());
        let t = if digits_only { t_text.parse().ok() } else { None }.ok_or(Malformed("t is not a Unix time"))?;
        if v1.is_empty() {
            return Err(Malformed("no v1 signature"));
        }
        Ok(SigHeader { t_text, t, v1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_v1_and_ignores_other_schemes() {
        let sig = "ab".repeat(32);
        let text = format!("t=17, v1={sig},v0=zz,v9=x,v1={}", sig.to_uppercase());
        let h = SigHeader::parse(&text).unwrap();
        assert_eq!((h.t_text, h.t, h.v1.len()), ("17", 17, 2));
    }

    #[test]
    fn refuses_malformed_headers() {
        let sig = "ab".repeat(32);
        for bad in [
            String::new(),
            format!("v1={sig}"),
            "t=17".to_string(),
            "t=17,v0=abcd".to_string(),
            format!("t=17,t=18,v1={sig}"),
            format!("t=-17,v1={sig}"),
            format!("t=+17,v1={sig}"),
            format!("t=,v1={sig}"),
            format!("t=1x,v1={sig}"),
            format!("t=9999999999999999999,v1={sig}"),
            "t=17,v1=abcd".to_string(),
            format!("t=17,v1={sig}zz"),
            format!("t=17,v1={sig},garbage"),
        ] {
            assert!(matches!(SigHeader::parse(&bad), Err(SignatureError::Malformed(_))), "{bad:?}");
        }
    }
}
