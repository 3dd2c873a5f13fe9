//! A verified NOWPayments IPN, reduced to a `PaymentEvent`.

use crate::domain::{PaymentEvent, PaymentOutcome, ProviderKind};
use crate::providers::ParseError;
use crate::providers::fields::Obj;

/// Reads an IPN body that has passed `NowPaymentsVerifier`.
///
/// `payment_id` and `payment_status` are required. The amounts and currencies
/// are required when the outcome moves money (paid, partially paid), so the
/// money check never runs on nothing; otherwise they are read when present.
/// An amount that is negative, or not a finite decimal, is refused whatever
/// the status: a signed IPN is still not money until it reads as money.
pub fn parse(raw: &[u8]) -> Result<PaymentEvent, ParseError> {
    let ipn = Obj::root(raw)?;
    let payment_id = ipn.id_req("payment_id")?;
    let status = ipn.str_req("payment_status")?;
    let outcome = outcome(&status);
    let mut event = PaymentEvent {
        provider: ProviderKind::Nowpayments,
        event_id: format!("{payment_id}:{status}"),
        raw_status: status,
        order_id: ipn.id_opt("order_id")?,
        payment_id: Some(payment_id),
        outcome,
        price: ipn.amount_opt("price_amount")?,
        price_currency: ipn.str_opt("price_currency")?,
        pay_amount: ipn.amount_opt("pay_amount")?,
        actually_paid: ipn.amount_opt("actually_paid")?,
        pay_currency: ipn.str_opt("pay_currency")?,
        is_repeat_deposit: ipn.is_set("parent_payment_id"),
    };
    if matches!(outcome, PaymentOutcome::Paid | PaymentOutcome::PartiallyPaid) {
        event.price = Some(ipn.amount_req("price_amount")?);
        event.price_currency = Some(ipn.str_req("price_currency")?);
        event.pay_amount = Some(ipn.amount_req("pay_amount")?);
        event.actually_paid = Some(ipn.amount_req("actually_paid")?);
        event.pay_currency = Some(ipn.str_req("pay_currency")?);
    }
    Ok(event)
}

/// Only `finished` is paid: the funds have reached us. `waiting` (nothing sent
/// yet) and an unknown status are ignored (the caller logs the latter).
fn outcome(status: &str) -> PaymentOutcome {
    match status.to_ascii_lowercase().as_str() {
        "confirming" | "confirmed" | "sending" => PaymentOutcome::Confirming,
        "partially_paid" => PaymentOutcome::PartiallyPaid,
        "finished" => PaymentOutcome::Paid,
        "failed" | "cancelled" => PaymentOutcome::Failed,
        "refunded" => PaymentOutcome::Refunded,
        "expired" => PaymentOutcome::Expired,
        _ => PaymentOutcome::Ignore,
    }
}
