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
    /// Whether this is an ISO 4217 currency in use (not just three letters).
    pub fn is_known(&self) -> bool {
        ISO_4217.split_whitespace().any(|c| c == self.0)
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

/// Active ISO 4217 codes (2024 list; precious metals and funds left out).
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP \
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF \
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD \
    LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR \
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY \
    TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

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
    fn only_currencies_in_use_are_known() {
        for c in ["USD", "EUR", "JPY", "AED", "ZWL"] {
            assert!(Currency::parse(c).unwrap().is_known(), "{c}");
        }
        for c in ["XYZ", "USS", "AAA"] {
            assert!(!Currency::parse(c).unwrap().is_known(), "{c}");
        }
    }

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
