//! Reading fields of a provider's JSON object with messages that name the
//! field. Values stay raw until asked for, so a decimal is read from its exact
//! token, never through f64.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::ParseError;

pub(crate) struct Obj<'a> {
    /// Path of this object in the body (`data.object.`), for messages.
    prefix: String,
    map: BTreeMap<String, &'a RawValue>,
}

impl<'a> Obj<'a> {
    /// The body as a JSON object.
    pub(crate) fn root(raw: &'a [u8]) -> Result<Self, ParseError> {
        let text = std::str::from_utf8(raw).map_err(|e| ParseError::NotJson(e.to_string()))?;
        let top: &'a RawValue = serde_json::from_str(text).map_err(|e| ParseError::NotJson(e.to_string()))?;
        Self::from_raw(top, String::new()).ok_or(ParseError::NotObject)
    }

    fn from_raw(raw: &'a RawValue, prefix: String) -> Option<Self> {
        if !raw.get().starts_with('{') {
            return None;
        }
        let map = serde_json::from_str(raw.get()).ok()?;
        Some(Obj { prefix, map })
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub(crate) fn invalid(&self, name: &str, reason: &str) -> ParseError {
        ParseError::Invalid { field: self.path(name), reason: reason.to_string() }
    }

    fn missing(&self, name: &str) -> ParseError {
        ParseError::Missing(self.path(name))
    }

    /// The field's raw token; absent and `null` are both `None`.
    fn raw(&self, name: &str) -> Option<&'a str> {
        self.map.get(name).map(|r| r.get()).filter(|t| *t != "null")
    }

    pub(crate) fn is_set(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    pub(crate) fn str_opt(&self, name: &str) -> Result<Option<String>, ParseError> {
        match self.raw(name) {
            None => Ok(None),
            Some(t) => serde_json::from_str(t).map(Some).map_err(|_| self.invalid(name, "expected a string")),
        }
    }

    pub(crate) fn str_req(&self, name: &str) -> Result<String, ParseError> {
        self.str_opt(name)?.ok_or_else(|| self.missing(name))
    }

    /// An identifier sent as a string or as an integer (NOWPayments does both).
    pub(crate) fn id_opt(&self, name: &str) -> Result<Option<String>, ParseError> {
        let Some(t) = self.raw(name) else { return Ok(None) };
        let id = if t.starts_with('"') {
            self.str_opt(name)?.unwrap_or_default()
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            t.to_string()
        } else {
            return Err(self.invalid(name, "expected a string or an integer"));
        };
        if id.is_empty() { Err(self.invalid(name, "empty")) } else { Ok(Some(id)) }
    }

    pub(crate) fn id_req(&self, name: &str) -> Result<String, ParseError> {
        self.id_opt(name)?.ok_or_else(|| self.missing(name))
    }

    /// A decimal sent as a JSON number or as a string, read from its text.
    pub(crate) fn decimal_opt(&self, name: &str) -> Result<Option<Decimal>, ParseError> {
        let Some(t) = self.raw(name) else { return Ok(None) };
        let text = if t.starts_with('"') { self.str_opt(name)?.unwrap_or_default() } else { t.to_string() };
        decimal_text(&text).map(Some).ok_or_else(|| self.invalid(name, "expected a decimal number"))
    }

    /// An amount of money: a decimal that is not negative. NaN, infinities
    /// and numbers too large for a `Decimal` are not decimals at all.
    pub(crate) fn amount_opt(&self, name: &str) -> Result<Option<Decimal>, ParseError> {
        match self.decimal_opt(name)? {
            Some(d) if d.is_sign_negative() && !d.is_zero() => Err(self.invalid(name, "negative amount")),
            other => Ok(other),
        }
    }

    pub(crate) fn amount_req(&self, name: &str) -> Result<Decimal, ParseError> {
        self.amount_opt(name)?.ok_or_else(|| self.missing(name))
    }

    /// An amount in minor units: an integer that is not negative.
    pub(crate) fn minor_units_opt(&self, name: &str) -> Result<Option<i64>, ParseError> {
        match self.i64_opt(name)? {
            Some(n) if n < 0 => Err(self.invalid(name, "negative amount")),
            other => Ok(other),
        }
    }

    pub(crate) fn minor_units_req(&self, name: &str) -> Result<i64, ParseError> {
        self.minor_units_opt(name)?.ok_or_else(|| self.missing(name))
    }

    pub(crate) fn i64_opt(&self, name: &str) -> Result<Option<i64>, ParseError> {
        match self.raw(name) {
            None => Ok(None),
            Some(t) => i64::from_str(t).map(Some).map_err(|_| self.invalid(name, "expected an integer")),
        }
    }

    pub(crate) fn bool_req(&self, name: &str) -> Result<bool, ParseError> {
        match self.raw(name) {
            None => Err(self.missing(name)),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(self.invalid(name, "expected true or false")),
        }
    }

    pub(crate) fn obj_opt(&self, name: &str) -> Result<Option<Obj<'a>>, ParseError> {
        let Some(raw) = self.map.get(name).copied().filter(|r| r.get() != "null") else { return Ok(None) };
        let prefix = format!("{}.", self.path(name));
        Obj::from_raw(raw, prefix).map(Some).ok_or_else(|| self.invalid(name, "expected an object"))
    }

    pub(crate) fn obj_req(&self, name: &str) -> Result<Obj<'a>, ParseError> {
        self.obj_opt(name)?.ok_or_else(|| self.missing(name))
    }
}

/// Decimal text in JSON number syntax (leading zeros allowed), exactly: too
/// many digits is an error, not a rounding.
pub(crate) fn decimal_text(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let digits = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let value = Decimal::from_str_exact(mantissa).ok()?;
    match exponent {
        None => Some(value),
        Some(exp) => {
            let unsigned = exp.strip_prefix(['-', '+']).unwrap_or(exp);
            if !all_digits(unsigned) {
                return None;
            }
            Decimal::from_scientific(text).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Option<String> {
        decimal_text(s).map(|d| d.to_string())
    }

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(dec("0.00012345").as_deref(), Some("0.00012345"));
        assert_eq!(dec("30").as_deref(), Some("30"));
        assert_eq!(dec("-1.50").as_deref(), Some("-1.50"));
        assert_eq!(dec("1e-7").as_deref(), Some("0.0000001"));
        assert_eq!(dec("2.50E+1").as_deref(), Some("25.0"));
        assert_eq!(dec("0.0000012").as_deref(), Some("0.0000012"));
    }

    #[test]
    fn non_decimals_are_refused() {
        for bad in ["", "-", ".5", "5.", "1_000", "+1", "1e", "1e+", "0x10", " 1", "1e99", "1e-99", "NaN"] {
            assert_eq!(dec(bad), None, "{bad:?}");
        }
        // More digits than a Decimal holds is refused, not rounded.
        assert_eq!(dec("0.12345678901234567890123456789012"), None);
    }

    #[test]
    fn fields_name_themselves_in_errors() {
        let body = br#"{"a":"x","n":null,"o":{"i":"nope"},"id":12,"s":"0.5"}"#;
        let obj = Obj::root(body).unwrap();
        assert_eq!(obj.str_req("a").unwrap(), "x");
        assert_eq!(obj.str_opt("n").unwrap(), None);
        assert_eq!(obj.str_req("n"), Err(ParseError::Missing("n".into())));
        assert_eq!(obj.id_req("id").unwrap(), "12");
        assert_eq!(obj.amount_req("s").unwrap().to_string(), "0.5");
        let inner = obj.obj_req("o").unwrap();
        assert_eq!(
            inner.minor_units_req("i"),
            Err(ParseError::Invalid { field: "o.i".into(), reason: "expected an integer".into() })
        );
        assert!(matches!(obj.obj_req("a"), Err(ParseError::Invalid { .. })));
        let amounts = Obj::root(br#"{"neg":-0.5,"zero":"-0","minor":-1}"#).unwrap();
        assert_eq!(
            amounts.amount_req("neg"),
            Err(ParseError::Invalid { field: "neg".into(), reason: "negative amount".into() })
        );
        assert!(amounts.amount_req("zero").unwrap().is_zero());
        assert_eq!(
            amounts.minor_units_req("minor"),
            Err(ParseError::Invalid { field: "minor".into(), reason: "negative amount".into() })
        );
        assert_eq!(Obj::root(b"[1]").err(), Some(ParseError::NotObject));
        assert!(matches!(Obj::root(b"{nope").err(), Some(ParseError::NotJson(_))));
    }
}
