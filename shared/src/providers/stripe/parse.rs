//! A verified Stripe event, reduced to a `PaymentEvent`.

use rust_decimal::Decimal;

use crate::domain::{Currency, PaymentEvent, PaymentOutcome, ProviderKind};
use crate::providers::ParseError;
use crate::providers::fields::Obj;

const COMPLETED: &str = "checkout.session.completed";
const ASYNC_SUCCEEDED: &str = "checkout.session.async_payment_succeeded";
const ASYNC_FAILED: &str = "checkout.session.async_payment_failed";
const EXPIRED: &str = "checkout.session.expired";
const REFUNDED: &str = "charge.refunded";

/// Reads an event body that has passed `StripeVerifier`. `id` and `type` are
/// required; a handled type also needs `data.object` with what it is read
/// for, and a paid session its `amount_total` and `currency`. Other types
/// come back as `Ignore`.
pub fn parse(raw: &[u8]) -> Result<PaymentEvent, ParseError> {
    let event = Obj::root(raw)?;
    let event_id = event.str_req("id")?;
    let kind = event.str_req("type")?;
    let mut ev = PaymentEvent {
        provider: ProviderKind::Stripe,
        event_id,
        raw_status: kind.clone(),
        order_id: None,
        payment_id: None,
        outcome: PaymentOutcome::Ignore,
        price: None,
        price_currency: None,
        pay_amount: None,
        actually_paid: None,
        pay_currency: None,
        is_repeat_deposit: false,
    };
    match kind.as_str() {
        COMPLETED | ASYNC_SUCCEEDED | ASYNC_FAILED | EXPIRED => session(&data_object(&event)?, &kind, &mut ev)?,
        REFUNDED => charge(&data_object(&event)?, &mut ev)?,
        _ => {}
    }
    Ok(ev)
}

fn data_object<'a>(event: &Obj<'a>) -> Result<Obj<'a>, ParseError> {
    event.obj_req("data")?.obj_req("object")
}

fn session(s: &Obj<'_>, kind: &str, ev: &mut PaymentEvent) -> Result<(), ParseError> {
    ev.outcome = match kind {
        COMPLETED => match s.str_req("payment_status")?.as_str() {
            // no_payment_required: a 100 % discount; the money check still runs.
            "paid" | "no_payment_required" => PaymentOutcome::Paid,
            // A delayed method (bank debit): async_payment_succeeded follows.
            "unpaid" => PaymentOutcome::Confirming,
            _ => PaymentOutcome::Ignore,
        },
        ASYNC_SUCCEEDED => PaymentOutcome::Paid,
        ASYNC_FAILED => PaymentOutcome::Failed,
        _ => PaymentOutcome::Expired,
    };
    ev.payment_id = Some(s.str_req("id")?);
    ev.order_id = match s.str_opt("client_reference_id")?.filter(|id| !id.is_empty()) {
        Some(id) => Some(id),
        None => metadata_order_id(s)?,
    };
    let amount = if ev.outcome == PaymentOutcome::Paid {
        Some(s.minor_units_req("amount_total")?)
    } else {
        s.minor_units_opt("amount_total")?
    };
    match amount {
        Some(amount) => set_price(s, amount, ev),
        None => Ok(()),
    }
}

/// A charge is refunded in full only when Stripe says `refunded: true`; a
/// partial refund is `Ignore` (staff goodwill must not revoke the plan). The
/// price is `amount_refunded`, which for a full refund is the amount charged.
fn charge(c: &Obj<'_>, ev: &mut PaymentEvent) -> Result<(), ParseError> {
    ev.outcome = if c.bool_req("refunded")? { PaymentOutcome::Refunded } else { PaymentOutcome::Ignore };
    ev.order_id = metadata_order_id(c)?;
    ev.payment_id = match expandable_id(c, "payment_intent")? {
        Some(id) => Some(id),
        None => Some(c.str_req("id")?),
    };
    set_price(c, c.minor_units_req("amount_refunded")?, ev)
}

fn metadata_order_id(obj: &Obj<'_>) -> Result<Option<String>, ParseError> {
    match obj.obj_opt("metadata")? {
        Some(meta) => Ok(meta.str_opt("order_id")?.filter(|id| !id.is_empty())),
        None => Ok(None),
    }
}

/// Stripe sends a related object as its id, or whole when expanded.
fn expandable_id(obj: &Obj<'_>, name: &str) -> Result<Option<String>, ParseError> {
    match obj.str_opt(name) {
        Ok(id) => Ok(id),
        Err(_) => obj.obj_req(name)?.str_req("id").map(Some),
    }
}

/// Minor units to major units with the currency's exponent (5500 usd -> 55.00).
/// `amount` was read with `minor_units_*`, so it is not negative.
fn set_price(obj: &Obj<'_>, amount: i64, ev: &mut PaymentEvent) -> Result<(), ParseError> {
    let currency = Currency::parse(&obj.str_req("currency")?).map_err(|e| obj.invalid("currency", &e.reason))?;
    ev.price = Some(Decimal::new(amount, currency.exponent()));
    ev.price_currency = Some(currency.as_str().to_string());
    Ok(())
}
