//! Provider-neutral payment events, and the rule that checks money.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Money, OrderStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Nowpayments,
    Stripe,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Nowpayments => "nowpayments",
            ProviderKind::Stripe => "stripe",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "nowpayments" => Some(ProviderKind::Nowpayments),
            "stripe" => Some(ProviderKind::Stripe),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a provider's event means for the order, before money is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// Nothing for us (NOWPayments `waiting`, an event type we do not handle).
    Ignore,
    Confirming,
    PartiallyPaid,
    Paid,
    Failed,
    Expired,
    Refunded,
}

impl PaymentOutcome {
    /// The order status this outcome asks for, if any.
    pub fn target(self) -> Option<OrderStatus> {
        match self {
            PaymentOutcome::Ignore => None,
            PaymentOutcome::Confirming => Some(OrderStatus::Confirming),
            PaymentOutcome::PartiallyPaid => Some(OrderStatus::PartiallyPaid),
            PaymentOutcome::Paid => Some(OrderStatus::Paid),
            PaymentOutcome::Failed => Some(OrderStatus::Failed),
            PaymentOutcome::Expired => Some(OrderStatus::Expired),
            PaymentOutcome::Refunded => Some(OrderStatus::Refunded),
        }
    }
}

/// A verified webhook, reduced to what Stockroom acts on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub provider: ProviderKind,
    /// Deduplication key: Stripe's event id; for NOWPayments, which has none,
    /// `{payment_id}:{payment_status}`.
    pub event_id: String,
    /// The provider's own status or event type, for logs and the order history.
    pub raw_status: String,
    /// Our order id as the provider echoed it (not yet parsed: an unknown or
    /// malformed one is logged and acknowledged).
    pub order_id: Option<String>,
    pub payment_id: Option<String>,
    pub outcome: PaymentOutcome,
    /// What the invoice was priced at, in major units of `price_currency`.
    pub price: Option<Decimal>,
    pub price_currency: Option<String>,
    /// NOWPayments: what the buyer had to send and what arrived, in `pay_currency`.
    pub pay_amount: Option<Decimal>,
    pub actually_paid: Option<Decimal>,
    pub pay_currency: Option<String>,
    /// NOWPayments repeated deposit (parent_payment_id set): never hands out
    /// stock by itself.
    pub is_repeat_deposit: bool,
}

/// The money check of a paid event against its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountCheck {
    Ok,
    /// Less arrived than was due: what is missing, as decimal text and currency.
    Under {
        missing: String,
        currency: String,
    },
    /// More arrived than was due: paid, and the excess is recorded (never
    /// silently kept).
    Over {
        excess: String,
        currency: String,
    },
    /// The event is for another price or currency than the order's: not ours
    /// to act on.
    Mismatch(String),
}

impl PaymentEvent {
    /// The payment this event is about, as checkout stored it on the order
    /// (`PaymentRecord::payment_id`): the NOWPayments payment, the Stripe
    /// checkout session. A Stripe refund (`charge.refunded`, its only
    /// refunded event) names the charge's payment intent, which the order
    /// does not store: none, so it is matched by the charge's order only.
    pub fn invoice_id(&self) -> Option<&str> {
        match (self.provider, self.outcome) {
            (ProviderKind::Stripe, PaymentOutcome::Refunded) => None,
            _ => self.payment_id.as_deref(),
        }
    }

    /// What arrived, as decimal text and currency ("0.0012 btc"), when the
    /// provider says.
    pub fn received(&self) -> Option<String> {
        let paid = self.actually_paid?;
        Some(format!("{} {}", paid.normalize(), self.pay_currency.as_deref().unwrap_or_default()).trim().to_string())
    }
}

/// Checks a paid event's amounts against the order's price. The parsers
/// refuse negative amounts; one that arrives here anyway (an event built
/// elsewhere) is a mismatch, never a payment, and no difference is computed
/// that could overflow.
pub fn check_amount(price: &Money, ev: &PaymentEvent) -> AmountCheck {
    if let Some(cur) = &ev.price_currency
        && !cur.eq_ignore_ascii_case(price.currency.as_str())
    {
        return AmountCheck::Mismatch(format!("currency {cur} does not match the order's {}", price.currency.as_str()));
    }
    if let Some(negative) =
        [ev.price, ev.pay_amount, ev.actually_paid].into_iter().flatten().find(|d| *d < Decimal::ZERO)
    {
        return AmountCheck::Mismatch(format!("negative amount {negative}"));
    }
    let due = price.to_decimal();
    if let Some(p) = ev.price {
        if p < due {
            return under(due, p, price.currency.as_str());
        }
        if p > due && ev.pay_amount.is_some() {
            // A crypto invoice is created for the exact price; another price
            // means the invoice is not this order's.
            return AmountCheck::Mismatch(format!("invoice price {p} does not match the order's {due}"));
        }
    }
    if let (Some(expected), Some(paid)) = (ev.pay_amount, ev.actually_paid) {
        let currency = ev.pay_currency.as_deref().unwrap_or_default();
        if paid < expected {
            return under(expected, paid, currency);
        }
        if paid > expected {
            // Both not negative: the excess fits; checked all the same.
            return match paid.checked_sub(expected) {
                Some(excess) => AmountCheck::Over { excess: excess.normalize().to_string(), currency: currency.into() },
                None => AmountCheck::Mismatch(format!("amounts {paid} and {expected} cannot be compared")),
            };
        }
    }
    AmountCheck::Ok
}

/// `less` is below `due`, both not negative, so the difference fits; checked
/// all the same.
fn under(due: Decimal, less: Decimal, currency: &str) -> AmountCheck {
    match due.checked_sub(less) {
        Some(missing) => {
            AmountCheck::Under { missing: missing.normalize().to_string(), currency: currency.to_string() }
        }
        None => AmountCheck::Mismatch(format!("amounts {due} and {less} cannot be compared")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ev() -> PaymentEvent {
        PaymentEvent {
            provider: ProviderKind::Nowpayments,
            event_id: "1:finished".into(),
            raw_status: "finished".into(),
            order_id: None,
            payment_id: Some("1".into()),
            outcome: PaymentOutcome::Paid,
            price: Some(Decimal::from_str("30").unwrap()),
            price_currency: Some("usd".into()),
            pay_amount: Some(Decimal::from_str("0.0012").unwrap()),
            actually_paid: Some(Decimal::from_str("0.0012").unwrap()),
            pay_currency: Some("btc".into()),
            is_repeat_deposit: false,
        }
    }

    #[test]
    fn exact_payment_is_ok() {
        assert_eq!(check_amount(&Money::usd(3000), &ev()), AmountCheck::Ok);
    }

    #[test]
    fn underpaid_crypto_says_what_is_missing() {
        let mut e = ev();
        e.actually_paid = Some(Decimal::from_str("0.0010").unwrap());
        assert_eq!(
            check_amount(&Money::usd(3000), &e),
            AmountCheck::Under { missing: "0.0002".into(), currency: "btc".into() }
        );
    }

    #[test]
    fn wrong_currency_or_price_is_a_mismatch() {
        let mut e = ev();
        e.price_currency = Some("eur".into());
        assert!(matches!(check_amount(&Money::usd(3000), &e), AmountCheck::Mismatch(_)));
        let mut e = ev();
        e.price = Some(Decimal::from_str("31").unwrap());
        assert!(matches!(check_amount(&Money::usd(3000), &e), AmountCheck::Mismatch(_)));
    }

    #[test]
    fn negative_or_extreme_amounts_are_a_mismatch_never_a_payment() {
        for field in 0..3 {
            let mut e = ev();
            let neg = Some(Decimal::from_str("-1").unwrap());
            match field {
                0 => e.price = neg,
                1 => e.pay_amount = neg,
                _ => e.actually_paid = neg,
            }
            assert!(matches!(check_amount(&Money::usd(3000), &e), AmountCheck::Mismatch(_)), "{field}");
        }
        // Both paid amounts negative used to compare as "paid enough".
        let mut e = ev();
        e.pay_amount = Some(Decimal::MIN);
        e.actually_paid = Some(Decimal::MIN);
        assert!(matches!(check_amount(&Money::usd(3000), &e), AmountCheck::Mismatch(_)));
        // The largest amounts do not overflow the difference.
        let mut e = ev();
        e.pay_amount = Some(Decimal::MAX);
        e.actually_paid = Some(Decimal::ZERO);
        assert_eq!(
            check_amount(&Money::usd(3000), &e),
            AmountCheck::Under { missing: Decimal::MAX.to_string(), currency: "btc".into() }
        );
        let mut e = ev();
        e.price = Some(Decimal::ZERO);
        assert!(matches!(
            check_amount(&Money::new(i64::MAX, crate::domain::Currency::usd()), &e),
            AmountCheck::Under { .. }
        ));
    }

    #[test]
    fn card_payment_below_price_is_under() {
        let mut e = ev();
        e.provider = ProviderKind::Stripe;
        e.pay_amount = None;
        e.actually_paid = None;
        e.price = Some(Decimal::new(2999, 2));
        assert_eq!(
            check_amount(&Money::usd(3000), &e),
            AmountCheck::Under { missing: "0.01".into(), currency: "USD".into() }
        );
    }
}
