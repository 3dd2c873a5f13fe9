//! Signed provider webhooks built the way the providers build them.

use serde_json::{Value, json};
use shared::domain::Timestamp;
use shared::providers::{nowpayments, stripe};

/// A NOWPayments IPN for an order: (raw body, headers).
pub fn nowpayments_ipn(
    secret: &str,
    order_id: &str,
    payment_id: u64,
    status: &str,
    price: &str,
    paid: &str,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    nowpayments_deposit(secret, order_id, (payment_id, None), status, price, paid)
}

/// A NOWPayments IPN for a repeated deposit: another payment `payment_id`
/// to the address of the order's payment `parent`.
pub fn nowpayments_repeat(
    secret: &str,
    order_id: &str,
    (payment_id, parent): (u64, u64),
    status: &str,
    paid: &str,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    nowpayments_deposit(secret, order_id, (payment_id, Some(parent)), status, paid, paid)
}

fn nowpayments_deposit(
    secret: &str,
    order_id: &str,
    (payment_id, parent): (u64, Option<u64>),
    status: &str,
    price: &str,
    paid: &str,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let body = json!({
        "payment_id": payment_id, "parent_payment_id": parent, "payment_status": status,
        "pay_address": "addr", "price_amount": num(price), "price_currency": "usd",
        "pay_amount": num(price), "actually_paid": num(paid), "pay_currency": "usdttrc20",
        "order_id": order_id, "order_description": "plan", "purchase_id": "1",
        "fee": {"currency": "usdttrc20", "depositFee": 0, "serviceFee": 0, "withdrawalFee": 0},
    });
    let raw = body.to_string().into_bytes();
    let sig = nowpayments::sign(secret, &raw).expect("sign");
    (raw, vec![("x-nowpayments-sig", sig)])
}

/// A Stripe event about a checkout session: (raw body, headers).
pub fn stripe_event(
    secret: &str,
    event_id: &str,
    kind: &str,
    order_id: &str,
    amount: i64,
    currency: &str,
    t: Timestamp,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let body = json!({
        "id": event_id, "object": "event", "type": kind, "created": t.secs(),
        "data": {"object": {"id": format!("cs_test_{order_id}"), "object": "checkout.session",
            "client_reference_id": order_id, "metadata": {"order_id": order_id},
            "amount_total": amount, "currency": currency, "payment_status": "paid"}},
    });
    let raw = body.to_string().into_bytes();
    let header = stripe::signature_header(secret, t.secs(), &raw);
    (raw, vec![("stripe-signature", header)])
}

/// The NOWPayments payment id a checkout answer carries: the order's own
/// payment, the only one whose IPNs move the order.
pub fn payment_id(checkout: &Value) -> u64 {
    checkout["payment"]["payment_id"].as_str().and_then(|p| p.parse().ok()).expect("a NOWPayments payment id")
}

fn num(s: &str) -> Value {
    serde_json::from_str(s).expect("number")
}

/// A Stripe `charge.refunded` event for a whole order: (raw body, headers).
pub fn stripe_refund(
    secret: &str,
    event_id: &str,
    order_id: &str,
    amount: i64,
    t: Timestamp,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let body = json!({
        "id": event_id, "object": "event", "type": "charge.refunded", "created": t.secs(),
        "data": {"object": {"id": format!("ch_{order_id}"), "object": "charge", "amount": amount,
            "amount_refunded": amount, "refunded": true, "currency": "usd",
            "payment_intent": format!("pi_{order_id}"), "metadata": {"order_id": order_id}}},
    });
    let raw = body.to_string().into_bytes();
    let header = stripe::signature_header(secret, t.secs(), &raw);
    (raw, vec![("stripe-signature", header)])
}
