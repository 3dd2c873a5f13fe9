use std::fmt;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// ISO 4217 code, upper case (`USD`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^[A-Z]{3}$", example = "USD")]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let up = s.trim().to_ascii_uppercase();
        if up.len() == 3 && up.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(up))
        } else {
            Err(ParseError::new("currency", format!("'{s}' is not an ISO 4217 code")))
        }
    }
    pub fn usd() -> Self {
        Currency("USD".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Digits after the decimal point in this currency's major unit.
    pub fn exponent(&self) -> u32 {
        match self.0.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

/// An amount in integer minor units (cents) of a currency. Never a float.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"amount": 5500, "currency": "USD"}))]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }
    pub fn usd(cents: i64) -> Self {
        Money::new(cents, Currency::usd())
    }
    /// The amount as a decimal in major units (`3000` USD -> `30.00`).
    pub fn to_decimal(&self) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(self.amount, self.currency.exponent())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_parses_and_normalises() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert!(Currency::parse("dollars").is_err());
        assert!(Currency::parse("U1D").is_err());
    }

    #[test]
    fn decimal_uses_the_currency_exponent() {
        assert_eq!(Money::usd(3000).to_decimal().to_string(), "30.00");
        let yen = Money::new(500, Currency::parse("JPY").unwrap());
        assert_eq!(yen.to_decimal().to_string(), "500");
    }
}
