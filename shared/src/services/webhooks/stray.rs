//! Events about a payment that is not the order's own: a NOWPayments
//! repeated deposit (an extra payment to the same address, its
//! `parent_payment_id` set), or an invoice other than the one checkout
//! stored. They never move the order, whatever their status: a refund of
//! an extra deposit must not refund the order, its failure must not fail
//! it. Money that arrives or leaves that way is for staff to settle by
//! hand, so it raises an `ops.alert`.

use serde_json::json;

use super::{Effect, remember_with};
use crate::domain::{PaymentEvent, PaymentOutcome};
use crate::services::events;
use crate::services::ops;
use crate::services::store::orders::OrderBundle;
use crate::services::{Ctx, ServiceError};

/// Why `ev` is not about the order's own payment, if it is not. An order
/// that stores no payment id yet (its invoice not recorded), or an event
/// that names none the order stores (a Stripe charge), is taken as its own.
pub(super) fn not_its_payment(ev: &PaymentEvent, b: &OrderBundle) -> Option<String> {
    if ev.provider != b.order.provider {
        return Some(format!("the order is paid through {}", b.order.provider));
    }
    let stored = b.payment.as_ref().filter(|p| p.provider == ev.provider)?.payment_id.as_deref()?;
    let named = ev.invoice_id()?;
    (named != stored).then(|| format!("payment {named} is not the order's payment {stored}"))
}

/// Acknowledges the event without effect. The alert commits with the
/// event's receipt, so a repeat delivery raises none.
pub(super) async fn acknowledge(ctx: &Ctx, ev: &PaymentEvent, why: &str) -> Result<Effect, ServiceError> {
    tracing::warn!(
        event_id = %ev.event_id, order_id = ?ev.order_id, status = %ev.raw_status, why,
        "payment outside the order acknowledged without effect"
    );
    let effect = Effect::NoChange(format!("{why}; {} ignored", ev.raw_status));
    let alert = if moves_money(ev.outcome) { vec![events::record(ctx, &alert(ev, why))?] } else { Vec::new() };
    remember_with(ctx, ev, effect, alert).await
}

/// Money arrived (in full or part) or went back. Progress and failures of
/// such a payment move no money, and its `finished` follows anyway.
fn moves_money(outcome: PaymentOutcome) -> bool {
    matches!(outcome, PaymentOutcome::Paid | PaymentOutcome::PartiallyPaid | PaymentOutcome::Refunded)
}

fn alert(ev: &PaymentEvent, why: &str) -> events::Event {
    let order = ev.order_id.as_deref().unwrap_or("(none)");
    let message = format!(
        "{} {} for order {order}: {why}; the order was left as it is (settle this money by hand)",
        ev.provider, ev.raw_status
    );
    let details = json!({
        "provider": ev.provider.as_str(),
        "order_id": ev.order_id,
        "payment_id": ev.payment_id,
        "status": ev.raw_status,
        "received": ev.received(),
        "price": ev.price.map(|p| p.normalize().to_string()),
        "price_currency": ev.price_currency,
    });
    ops::alert("payment_outside_order", message, details)
}
