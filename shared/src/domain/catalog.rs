use serde::{Deserialize, Serialize};

use super::usage::{Quotas, UsageFail};
use super::{Money, ParseError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Starter,
    Enterprise,
}

/// What buying a product does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// A subscription plan: files, posting interval, validity.
    #[default]
    Plan,
    /// Add-on: `files` more files for a live subscription.
    ExtraFiles,
    /// Add-on: `validity_days` more days for a live subscription. Sold only
    /// for plans that cost no more than it, so it is never a cheap renewal.
    Extend,
}

/// A plan or add-on: the one source of price and limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub tier: Tier,
    pub price: Money,
    pub files: u32,
    pub interval_seconds: u32,
    pub validity_days: u32,
    #[serde(default)]
    pub kind: ProductKind,
    /// Limits per 30-day usage period (none: unmetered).
    #[serde(default, skip_serializing_if = "Quotas::is_empty")]
    #[schema(value_type = std::collections::BTreeMap<super::usage::Metric, super::usage::Quota>)]
    pub quotas: Quotas,
    /// Entitlement when usage cannot be read: "open" (default) or "closed".
    #[serde(default)]
    pub usage_fail: UsageFail,
    /// Set for plans priced per seat (file): `price` buys `files` seats, each
    /// seat more or fewer moves it by this (see `usage::seat_price_for`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_price: Option<Money>,
    /// No longer sold (not listed, no new checkout).
    #[serde(default)]
    pub retired: bool,
    /// Whether a retired plan may still be renewed by those who hold it.
    #[serde(default = "yes")]
    pub renewable: bool,
    /// Hours after a file's delivery in which its buyer may report it bad
    /// and get a fresh one (`POST /me/subscriptions/{id}/replacements`).
    #[serde(default = "default_warranty")]
    #[schema(default = 72, maximum = 8784)]
    pub warranty_hours: u32,
    /// Replacements a buyer may get per subscription; none: its file count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 1000)]
    pub max_replacements: Option<u32>,
}

fn yes() -> bool {
    true
}

fn default_warranty() -> u32 {
    DEFAULT_WARRANTY_HOURS
}

pub const DEFAULT_WARRANTY_HOURS: u32 = 72;
/// A year (leap) of warranty, and a cap far beyond any plan's files.
pub const MAX_WARRANTY_HOURS: u32 = 8784;
pub const MAX_REPLACEMENTS: u32 = 1000;

impl Product {
    /// Checks a product read from the seed file or the store.
    pub fn validate(self) -> Result<Self, ParseError> {
        let id_ok =
            !self.id.is_empty() && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(ParseError::new(
                "product.id",
                format!("'{}' must be lower-case letters, digits and '-'", self.id),
            ));
        }
        if self.price.amount <= 0 {
            return Err(ParseError::new("product.price", format!("{}: price must be positive", self.id)));
        }
        let files_ok = match self.kind {
            ProductKind::Extend => self.files == 0,
            ProductKind::Plan | ProductKind::ExtraFiles => (1..=40).contains(&self.files),
        };
        if !files_ok {
            return Err(ParseError::new(
                "product.files",
                format!("{}: files must be 1 to 40 (0 for an extension)", self.id),
            ));
        }
        let times_ok = match self.kind {
            ProductKind::Plan => self.interval_seconds > 0 && self.validity_days > 0,
            ProductKind::Extend => self.validity_days > 0,
            ProductKind::ExtraFiles => true,
        };
        if !times_ok {
            return Err(ParseError::new("product", format!("{}: interval and validity must be positive", self.id)));
        }
        if self.warranty_hours > MAX_WARRANTY_HOURS || self.max_replacements.is_some_and(|m| m > MAX_REPLACEMENTS) {
            return Err(ParseError::new(
                "product",
                format!("warranty_hours at most {MAX_WARRANTY_HOURS}, max_replacements at most {MAX_REPLACEMENTS}"),
            ));
        }
        super::usage::validate(&self.id, &self.quotas, self.seat_price.as_ref(), &self.price, self.files)?;
        Ok(self)
    }

    /// Checks a product staff submit: as `validate`, and its currencies
    /// must be ones the world uses (a typo would make it unpayable).
    pub fn validate_edit(self) -> Result<Self, ParseError> {
        if self.id.len() > 64 {
            return Err(ParseError::new("product.id", "at most 64 characters"));
        }
        let name_ok = !self.name.trim().is_empty() && self.name.chars().count() <= 100;
        if !name_ok || self.name.chars().any(char::is_control) {
            return Err(ParseError::new("product.name", "1 to 100 printable characters"));
        }
        // Bounds that keep sums and dates far from overflow.
        if self.price.amount > MAX_PRICE_MINOR || self.seat_price.as_ref().is_some_and(|m| m.amount > MAX_PRICE_MINOR) {
            return Err(ParseError::new("product.price", format!("at most {MAX_PRICE_MINOR} minor units")));
        }
        if self.validity_days > MAX_VALIDITY_DAYS || self.interval_seconds > MAX_INTERVAL_SECONDS {
            return Err(ParseError::new(
                "product",
                format!("validity_days at most {MAX_VALIDITY_DAYS}, interval_seconds at most {MAX_INTERVAL_SECONDS}"),
            ));
        }
        for m in std::iter::once(&self.price).chain(self.seat_price.as_ref()) {
            if !m.currency.is_known() {
                return Err(ParseError::new(
                    "product.price.currency",
                    format!("'{}' is not an ISO 4217 currency in use", m.currency.as_str()),
                ));
            }
        }
        self.validate()
    }

    /// Replacements a buyer may get per subscription of it.
    pub fn replacement_cap(&self) -> u32 {
        self.max_replacements.unwrap_or(self.files)
    }

    /// Whether this purchase may still be made: retired products are sold
    /// only as renewals, and only when the admin left them renewable.
    pub fn sold_for(&self, renewal: bool) -> bool {
        !self.retired || (renewal && self.renewable)
    }
}

/// Staff edits: the largest price (ten million major units of a
/// two-decimal currency), validity and posting interval.
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000;
pub const MAX_VALIDITY_DAYS: u32 = 3660;
pub const MAX_INTERVAL_SECONDS: u32 = 31 * 86_400;

/// The seed catalog shipped in `infra/catalog.json`.
pub const CATALOG_JSON: &str = include_str!("../../../infra/catalog.json");

/// The default plans, parsed from the seed file.
pub fn default_catalog() -> Result<Vec<Product>, ParseError> {
    let products: Vec<Product> =
        serde_json::from_str(CATALOG_JSON).map_err(|e| ParseError::new("catalog", e.to_string()))?;
    products.into_iter().map(Product::validate).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_matches_the_contract() {
        let c = default_catalog().unwrap();
        let row = |id: &str| c.iter().find(|p| p.id == id).unwrap();
        let expect = [
            ("bronze", 1, 3600, 3000),
            ("silver", 2, 1800, 5500),
            ("gold", 3, 1200, 8000),
            ("diamond", 6, 600, 16000),
            ("basic", 3, 900, 19900),
            ("pro", 7, 420, 45000),
            ("elite", 15, 120, 89900),
        ];
        let plans: Vec<_> = c.iter().filter(|p| p.kind == ProductKind::Plan).collect();
        assert_eq!(plans.len(), expect.len());
        for (id, files, interval, cents) in expect {
            let p = row(id);
            assert_eq!(
                (p.files, p.interval_seconds, p.price.amount, p.validity_days),
                (files, interval, cents, 30),
                "{id}"
            );
            assert_eq!(p.price.currency.as_str(), "USD");
        }
        assert_eq!(row("bronze").tier, Tier::Starter);
        assert_eq!(row("elite").tier, Tier::Enterprise);
        assert_eq!((row("extra-account").kind, row("extra-account").files), (ProductKind::ExtraFiles, 1));
        assert_eq!((row("extend-30").kind, row("extend-30").validity_days), (ProductKind::Extend, 30));
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;

    fn bronze() -> Product {
        default_catalog().unwrap().into_iter().find(|p| p.id == "bronze").unwrap()
    }

    #[test]
    fn staff_edits_need_a_currency_in_use_and_a_sound_product() {
        assert!(bronze().validate_edit().is_ok());
        let mut p = bronze();
        p.price.currency = crate::domain::Currency::parse("XYZ").unwrap();
        assert_eq!(p.validate_edit().unwrap_err().field, "product.price.currency");
        let mut p = bronze();
        p.price.amount = -1;
        assert!(p.validate_edit().is_err());
        let mut p = bronze();
        p.price.amount = MAX_PRICE_MINOR + 1;
        assert_eq!(p.validate_edit().unwrap_err().field, "product.price");
        let mut p = bronze();
        p.validity_days = MAX_VALIDITY_DAYS + 1;
        assert!(p.validate_edit().is_err());
        let mut p = bronze();
        p.id = "a".repeat(65);
        assert_eq!(p.validate_edit().unwrap_err().field, "product.id");
        let mut p = bronze();
        p.name = " ".into();
        assert_eq!(p.validate_edit().unwrap_err().field, "product.name");
    }

    #[test]
    fn retired_products_sell_only_as_renewals_and_only_when_renewable() {
        let mut p = bronze();
        assert!(p.sold_for(false) && p.sold_for(true));
        p.retired = true;
        assert!(!p.sold_for(false) && p.sold_for(true));
        p.renewable = false;
        assert!(!p.sold_for(false) && !p.sold_for(true));
        let stored: Product = serde_json::from_str(
            r#"{"id":"x","name":"X","tier":"starter",
            "price":{"amount":1,"currency":"USD"},"files":1,"interval_seconds":1,"validity_days":1}"#,
        )
        .unwrap();
        assert!(!stored.retired && stored.renewable, "records from before the flags read as on sale");
    }
}

#[cfg(test)]
mod usage_tests {
    use super::*;
    use crate::domain::usage::{Metric, seat_price_for};

    #[test]
    fn default_quotas_allow_what_the_interval_allows_and_enterprise_is_per_seat() {
        for p in default_catalog().unwrap().into_iter().filter(|p| p.kind == ProductKind::Plan) {
            let q = p.quotas.get(&Metric::Posts).copied().unwrap();
            assert_eq!(q.limit, u64::from(p.files) * (30 * 86_400 / u64::from(p.interval_seconds)), "{}", p.id);
            assert_eq!(q.hard, p.tier == Tier::Starter, "{}", p.id);
            let seat = p.seat_price.clone();
            assert_eq!(seat.is_some(), p.tier == Tier::Enterprise, "{}", p.id);
            if let Some(seat) = seat {
                assert_eq!(seat_price_for(&p.price, &seat, p.files, p.files), p.price, "{}", p.id);
            }
        }
    }

    #[test]
    fn a_bad_quota_in_a_seed_is_a_parse_error() {
        let bad = CATALOG_JSON.replace("\"limit\": 720", "\"limit\": 0");
        let products: Vec<Product> = serde_json::from_str(&bad).unwrap();
        assert!(products.into_iter().map(Product::validate).any(|r| r.is_err()));
        let unknown = CATALOG_JSON.replace("{\"posts\": {\"limit\": 720", "{\"likes\": {\"limit\": 720");
        assert!(serde_json::from_str::<Vec<Product>>(&unknown).is_err());
    }
}
