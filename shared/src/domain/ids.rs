use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Email, ParseError};

/// Our order id: a ULID.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderId(String);

impl OrderId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        ulid::Ulid::from_string(s)
            .map(|u| OrderId(u.to_string()))
            .map_err(|_| ParseError::new("order_id", "is not an order id"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrderId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        OrderId::parse(&s)
    }
}
impl From<OrderId> for String {
    fn from(o: OrderId) -> String {
        o.0
    }
}
impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A subscription's id: the id of the order that created it, marked `S`.
/// Derived, so a retried fulfilment writes the same subscription and a
/// claim handed back before one existed still has its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    pub fn for_order(order_id: &str) -> Self {
        SubscriptionId(format!("S{order_id}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<SubscriptionId> for String {
    fn from(s: SubscriptionId) -> String {
        s.0
    }
}
impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A buyer's id, derived from the email so that no record is needed to find it
/// and no address appears in storage paths.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn for_email(email: &Email) -> Self {
        let digest = Sha256::digest(email.as_str().as_bytes());
        UserId(format!("u{}", &hex::encode(digest)[..24]))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() == 25 && s.starts_with('u') && s[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok { Ok(UserId(s.to_string())) } else { Err(ParseError::new("user_id", "is not a user id")) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of one stock file (no directories): what staff upload into
/// `unused/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]{0,199}$", example = "acct-01.txt")]
pub struct FileName(String);

impl FileName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = !s.is_empty()
            && s.len() <= 200
            && s != "."
            && s != ".."
            && !s.starts_with('.')
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+' | b'@'));
        if ok {
            Ok(FileName(s.to_string()))
        } else {
            Err(ParseError::new(
                "file",
                format!("'{s}' is not a stock file name (letters, digits, . - _ + @; no leading dot)"),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FileName {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        FileName::parse(&s)
    }
}
impl From<FileName> for String {
    fn from(f: FileName) -> String {
        f.0
    }
}
impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's Idempotency-Key header: 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ParseError::new("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
        }
        Ok(IdempotencyKey(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_is_stable_and_parses() {
        let e = Email::parse("ann@example.com").unwrap();
        let u = UserId::for_email(&e);
        assert_eq!(u, UserId::for_email(&Email::parse("ANN@example.com").unwrap()));
        assert_eq!(UserId::parse(u.as_str()).unwrap(), u);
    }

    #[test]
    fn file_names_refuse_paths() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "a\\b"] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FileName::parse("acct-001.session").is_ok());
    }

    #[test]
    fn order_ids_are_ulids() {
        assert!(OrderId::parse("01JAAAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert!(OrderId::parse("nope").is_err());
    }
}
