//! Usage metering and per-seat pricing rules: metrics, quotas, 30-day usage
//! periods and the price of a per-seat plan for a number of seats.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Money, ParseError, Timestamp};

/// What the bot engine reports. Unknown metrics are refused, not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Posts,
}

impl Metric {
    pub const ALL: [Metric; 1] = [Metric::Posts];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "posts" => Ok(Metric::Posts),
            _ => Err(ParseError::new("metric", format!("unknown metric '{s}'; known: posts"))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Posts => "posts",
        }
    }
}

/// A limit per 30-day period. A hard quota stops the bot once spent; a soft
/// one is only shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub limit: u64,
    pub hard: bool,
}

/// What entitlement does when usage cannot be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageFail {
    /// Let the bot run (the default: an outage of metering is not the buyer's).
    #[default]
    Open,
    /// Stop the bot until usage can be read again.
    Closed,
}

impl UsageFail {
    pub fn is_open(&self) -> bool {
        *self == UsageFail::Open
    }
}

pub type Quotas = BTreeMap<Metric, Quota>;

/// Largest limit a quota may have.
pub const MAX_QUOTA: u64 = 1_000_000_000;
/// Largest quantity one usage report may carry.
pub const MAX_REPORT_QUANTITY: i64 = 10_000;
/// A usage period: 30 days, counted from the subscription's creation.
pub const PERIOD_MILLIS: i64 = 30 * 86_400 * 1000;

/// True when a hard quota is spent: `used` has reached `limit` (exactly at
/// the limit counts as spent, so a limit of 5 allows 5 posts, not 6).
pub fn quota_spent(quota: Option<&Quota>, used: u64) -> bool {
    quota.is_some_and(|q| q.hard && used >= q.limit)
}

/// The period `now` falls in, counted from `anchor` (0 before the anchor).
pub fn period_index(anchor: Timestamp, now: Timestamp) -> u64 {
    u64::try_from((now.millis() - anchor.millis()).div_euclid(PERIOD_MILLIS)).unwrap_or(0)
}

/// Start (inclusive) and end (exclusive) of period `n`.
pub fn period_bounds(anchor: Timestamp, n: u64) -> (Timestamp, Timestamp) {
    let n = i64::try_from(n).unwrap_or(i64::MAX / PERIOD_MILLIS);
    let start = anchor.plus_millis(n.saturating_mul(PERIOD_MILLIS));
    (start, start.plus_millis(PERIOD_MILLIS))
}

/// A usage report's quantity: 1 to `MAX_REPORT_QUANTITY`.
pub fn parse_quantity(q: i64) -> Result<u64, ParseError> {
    if (1..=MAX_REPORT_QUANTITY).contains(&q) {
        Ok(q as u64)
    } else {
        Err(ParseError::new("quantity", format!("must be 1 to {MAX_REPORT_QUANTITY}, got {q}")))
    }
}

/// Price of a per-seat plan for `seats`: the listed price buys the plan's
/// default seats, and each seat more or fewer adds or takes `seat_price`
/// (so price = base + seat_price x seats, base = price - seat_price x files).
pub fn seat_price_for(price: &Money, seat_price: &Money, default_seats: u32, seats: u32) -> Money {
    let diff = i64::from(seats) - i64::from(default_seats);
    let amount = price.amount.saturating_add(seat_price.amount.saturating_mul(diff));
    Money::new(amount.max(seat_price.amount), price.currency.clone())
}

/// Checks a plan's quotas and seat price.
pub fn validate(
    id: &str,
    quotas: &Quotas,
    seat_price: Option<&Money>,
    price: &Money,
    files: u32,
) -> Result<(), ParseError> {
    for (metric, q) in quotas {
        if q.limit == 0 || q.limit > MAX_QUOTA {
            let why = format!("{id}: quota {} must be 1 to {MAX_QUOTA}", metric.as_str());
            return Err(ParseError::new("product.quotas", why));
        }
    }
    if let Some(seat) = seat_price {
        let fits = seat.amount > 0
            && seat.currency == price.currency
            && seat.amount.checked_mul(i64::from(files)).is_some_and(|all| all <= price.amount);
        if !fits {
            let why =
                format!("{id}: seat_price must be positive, in the plan's currency, and x files at most the price");
            return Err(ParseError::new("product.seat_price", why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hard_quota_is_spent_exactly_at_its_limit() {
        let hard = Quota { limit: 5, hard: true };
        assert!(!quota_spent(Some(&hard), 4));
        assert!(quota_spent(Some(&hard), 5));
        assert!(quota_spent(Some(&hard), 6));
        assert!(!quota_spent(Some(&Quota { limit: 5, hard: false }), 50));
        assert!(!quota_spent(None, u64::MAX));
    }

    #[test]
    fn periods_are_thirty_days_from_the_anchor() {
        let a = Timestamp(1_000_000);
        assert_eq!(period_index(a, a), 0);
        assert_eq!(period_index(a, a.plus_millis(PERIOD_MILLIS - 1)), 0);
        assert_eq!(period_index(a, a.plus_millis(PERIOD_MILLIS)), 1);
        assert_eq!(period_index(a, Timestamp(0)), 0);
        assert_eq!(period_bounds(a, 2), (a.plus_millis(2 * PERIOD_MILLIS), a.plus_millis(3 * PERIOD_MILLIS)));
    }

    #[test]
    fn quantities_and_metrics_parse() {
        assert!(parse_quantity(0).is_err() && parse_quantity(-1).is_err());
        assert!(parse_quantity(MAX_REPORT_QUANTITY + 1).is_err());
        assert_eq!(parse_quantity(MAX_REPORT_QUANTITY), Ok(MAX_REPORT_QUANTITY as u64));
        assert_eq!(Metric::parse("posts"), Ok(Metric::Posts));
        assert!(Metric::parse("likes").is_err() && Metric::parse("Posts").is_err());
    }

    #[test]
    fn seat_prices_move_by_the_seat_from_the_listed_price() {
        let price = Money::usd(19_900);
        let seat = Money::usd(6_600);
        assert_eq!(seat_price_for(&price, &seat, 3, 3).amount, 19_900);
        assert_eq!(seat_price_for(&price, &seat, 3, 4).amount, 26_500);
        assert_eq!(seat_price_for(&price, &seat, 3, 1).amount, 6_700);
    }

    #[test]
    fn bad_quotas_and_seat_prices_are_refused() {
        let price = Money::usd(1000);
        let mut q = Quotas::new();
        q.insert(Metric::Posts, Quota { limit: 0, hard: true });
        assert!(validate("x", &q, None, &price, 1).is_err());
        assert!(validate("x", &Quotas::new(), Some(&Money::usd(600)), &price, 2).is_err(), "2 x 600 > 1000");
        assert!(validate("x", &Quotas::new(), Some(&Money::usd(0)), &price, 1).is_err());
        assert!(validate("x", &Quotas::new(), Some(&Money::usd(500)), &price, 2).is_ok());
    }
}
