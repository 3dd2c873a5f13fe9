//! Known answers computed with Python: `hmac.new(b"whsec_test_secret",
//! b"1700000000." + body, hashlib.sha256).hexdigest()`, Stripe's published
//! formula, pasted here as literals.

use std::str::FromStr;

use http::{HeaderMap, HeaderValue};
use rust_decimal::Decimal;
use secrecy::SecretString;

use super::*;
use crate::domain::PaymentOutcome;
use crate::providers::ParseError;

const SECRET: &str = "whsec_test_secret";
const T: i64 = 1_700_000_000;
const BODY: &[u8] = include_bytes!("../testdata/stripe_session_completed.json");
const REFUND: &[u8] = include_bytes!("../testdata/stripe_charge_refunded.json");
const V1: &str = "26e654d7c4709710241a803dfccef000bd973192546166d552a758fcfaad130c";
// The same t and body keyed with "whsec_other".
const V1_OTHER: &str = "9a2eb8a58ae4b438c72058d3f903601841908451c98da6f00b73dd85b289744e";

fn verifier(secrets: &[&str]) -> StripeVerifier {
    StripeVerifier::new(secrets.iter().map(|s| SecretString::from(*s)).collect())
}

fn check(secrets: &[&str], header: &str, body: &[u8], now_secs: i64) -> Result<(), SignatureError> {
    let mut h = HeaderMap::new();
    h.insert("Stripe-Signature", HeaderValue::from_str(header).unwrap());
    verifier(secrets).verify(&h, body, Timestamp::from_secs(now_secs))
}

#[test]
fn python_vector_verifies() {
    assert_eq!(check(&[SECRET], &format!("t={T},v1={V1}"), BODY, T), Ok(()));
    assert_eq!(check(&[SECRET], &format!("t={T},v1={}", V1.to_uppercase()), BODY, T), Ok(()));
}

#[test]
fn signature_header_reproduces_the_python_vector() {
    assert_eq!(signature_header(SECRET, T, BODY), format!("t={T},v1={V1}"));
}

#[test]
fn any_v1_may_match_and_v0_is_ignored() {
    let wrong = "0".repeat(64);
    let header = format!("t={T},v1={wrong},v1={V1},v0={wrong}");
    assert_eq!(check(&[SECRET], &header, BODY, T), Ok(()));
    assert_eq!(check(&[SECRET], &format!("t={T},v1={wrong},v0={V1}"), BODY, T), Err(SignatureError::Mismatch));
}

#[test]
fn any_secret_may_match() {
    let header = format!("t={T},v1={V1_OTHER}");
    assert_eq!(check(&[SECRET, "whsec_other"], &header, BODY, T), Ok(()));
    assert_eq!(check(&[SECRET], &header, BODY, T), Err(SignatureError::Mismatch));
    assert_eq!(check(&[], &header, BODY, T), Err(SignatureError::Mismatch));
    assert_eq!(check(&[""], &signature_header("", T, BODY), BODY, T), Err(SignatureError::Mismatch));
}

#[test]
fn tolerance_is_300_seconds_either_way() {
    let header = format!("t={T},v1={V1}");
    assert_eq!(check(&[SECRET], &header, BODY, T + 300), Ok(()));
    assert_eq!(check(&[SECRET], &header, BODY, T - 300), Ok(()));
    assert_eq!(check(&[SECRET], &header, BODY, T + 301), Err(SignatureError::Stale));
    assert_eq!(check(&[SECRET], &header, BODY, T - 301), Err(SignatureError::Stale));
}

#[test]
fn a_forged_signature_is_a_mismatch_even_when_stale() {
    let forged = format!("t={},v1={V1}", T + 1);
    assert_eq!(check(&[SECRET], &forged, BODY, T), Err(SignatureError::Mismatch));
    assert_eq!(check(&[SECRET], &format!("t={T},v1={V1}"), b"{}", T + 10_000), Err(SignatureError::Mismatch));
}

#[test]
fn the_body_is_signed_byte_for_byte() {
    let mut body = BODY.to_vec();
    body.push(b'\n');
    assert_eq!(check(&[SECRET], &format!("t={T},v1={V1}"), &body, T), Err(SignatureError::Mismatch));
}

#[test]
fn bad_headers_are_missing_or_malformed() {
    let v = verifier(&[SECRET]);
    assert_eq!(v.verify(&HeaderMap::new(), BODY, Timestamp::from_secs(T)), Err(SignatureError::Missing));
    assert!(matches!(check(&[SECRET], "garbage", BODY, T), Err(SignatureError::Malformed(_))));
    assert!(matches!(check(&[SECRET], &format!("v1={V1}"), BODY, T), Err(SignatureError::Malformed(_))));
}

#[test]
fn parses_a_completed_session() {
    let ev = parse(BODY).unwrap();
    assert_eq!(ev.provider, crate::domain::ProviderKind::Stripe);
    assert_eq!(ev.event_id, "evt_1PxTestEvent0001");
    assert_eq!(ev.raw_status, "checkout.session.completed");
    assert_eq!(ev.outcome, PaymentOutcome::Paid);
    assert_eq!(ev.order_id.as_deref(), Some("01J9Z8X7W6V5T4S3R2Q1P0N9M8"));
    assert_eq!(ev.payment_id.as_deref(), Some("cs_test_a1B2c3D4e5"));
    // A session event names the session checkout stored on the order.
    assert_eq!(ev.invoice_id(), Some("cs_test_a1B2c3D4e5"));
    assert_eq!(ev.price, Some(Decimal::from_str("55.00").unwrap()));
    assert_eq!(ev.price_currency.as_deref(), Some("USD"));
    assert_eq!((ev.pay_amount, ev.actually_paid, ev.is_repeat_deposit), (None, None, false));
}

fn event(kind: &str, object: &str) -> Vec<u8> {
    format!(r#"{{"id":"evt_1","type":"{kind}","data":{{"object":{object}}}}}"#).into_bytes()
}

#[test]
fn maps_session_events() {
    let session = |status: &str| {
        format!(
            r#"{{"id":"cs_1","payment_status":"{status}","amount_total":500,"currency":"jpy","metadata":{{"order_id":"o1"}}}}"#
        )
    };
    let cases = [
        ("checkout.session.completed", "paid", PaymentOutcome::Paid),
        ("checkout.session.completed", "no_payment_required", PaymentOutcome::Paid),
        ("checkout.session.completed", "unpaid", PaymentOutcome::Confirming),
        ("checkout.session.completed", "mystery", PaymentOutcome::Ignore),
        ("checkout.session.async_payment_succeeded", "paid", PaymentOutcome::Paid),
        ("checkout.session.async_payment_failed", "unpaid", PaymentOutcome::Failed),
        ("checkout.session.expired", "unpaid", PaymentOutcome::Expired),
    ];
    for (kind, status, want) in cases {
        let ev = parse(&event(kind, &session(status))).unwrap();
        assert_eq!(ev.outcome, want, "{kind} {status}");
        // No client_reference_id: the metadata's order id.
        assert_eq!(ev.order_id.as_deref(), Some("o1"));
        // JPY has no minor unit.
        assert_eq!(ev.price, Some(Decimal::from(500)));
    }
}

#[test]
fn maps_refunds_full_and_partial() {
    let ev = parse(REFUND).unwrap();
    assert_eq!((ev.outcome, ev.event_id.as_str()), (PaymentOutcome::Refunded, "evt_1PxTestRefund01"));
    assert_eq!(ev.order_id.as_deref(), Some("01J9Z8X7W6V5T4S3R2Q1P0N9M8"));
    assert_eq!(ev.payment_id.as_deref(), Some("pi_3PxTest0001"));
    // A charge names its payment intent, which the order does not store.
    assert_eq!(ev.invoice_id(), None);
    assert_eq!(ev.price, Some(Decimal::from_str("55.00").unwrap()));
    let partial = r#"{"id":"ch_1","amount":5500,"amount_refunded":1000,"currency":"usd","refunded":false,
        "payment_intent":{"id":"pi_9"},"metadata":{}}"#;
    let ev = parse(&event("charge.refunded", partial)).unwrap();
    assert_eq!((ev.outcome, ev.order_id, ev.payment_id.as_deref()), (PaymentOutcome::Ignore, None, Some("pi_9")));
    assert_eq!(ev.price, Some(Decimal::from_str("10.00").unwrap()));
}

#[test]
fn other_event_types_are_ignored() {
    let ev = parse(br#"{"id":"evt_2","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#).unwrap();
    assert_eq!((ev.outcome, ev.order_id, ev.payment_id), (PaymentOutcome::Ignore, None, None));
}

#[test]
fn refuses_what_is_not_a_stripe_event() {
    assert!(matches!(parse(b"\x00"), Err(ParseError::NotJson(_))));
    assert_eq!(parse(b"\"evt\""), Err(ParseError::NotObject));
    assert_eq!(parse(br#"{"type":"charge.refunded"}"#), Err(ParseError::Missing("id".into())));
    assert_eq!(parse(br#"{"id":"evt_1"}"#), Err(ParseError::Missing("type".into())));
    let no_object = br#"{"id":"evt_1","type":"checkout.session.expired","data":{}}"#;
    assert_eq!(parse(no_object), Err(ParseError::Missing("data.object".into())));
    let paid_without_amount = event("checkout.session.completed", r#"{"id":"cs_1","payment_status":"paid"}"#);
    assert_eq!(parse(&paid_without_amount), Err(ParseError::Missing("data.object.amount_total".into())));
    let fractional = event(
        "checkout.session.completed",
        r#"{"id":"cs_1","payment_status":"paid","amount_total":55.5,"currency":"usd"}"#,
    );
    assert!(
        matches!(parse(&fractional), Err(ParseError::Invalid { field, .. }) if field == "data.object.amount_total")
    );
    let bad_currency = event("checkout.session.expired", r#"{"id":"cs_1","amount_total":1,"currency":"dollars"}"#);
    assert!(matches!(parse(&bad_currency), Err(ParseError::Invalid { field, .. }) if field == "data.object.currency"));
}

#[test]
fn refuses_negative_amounts() {
    let session = |amount: &str| {
        event(
            "checkout.session.completed",
            &format!(r#"{{"id":"cs_1","payment_status":"paid","amount_total":{amount},"currency":"usd"}}"#),
        )
    };
    for amount in ["-1", "-5500", "-9223372036854775808", "9223372036854775808", "1e3", "\"5500\""] {
        let got = parse(&session(amount));
        assert!(
            matches!(&got, Err(ParseError::Invalid { field, .. }) if field == "data.object.amount_total"),
            "{amount}: {got:?}"
        );
    }
    let refund = event(
        "charge.refunded",
        r#"{"id":"ch_1","amount":5500,"amount_refunded":-5500,"currency":"usd","refunded":true,"metadata":{}}"#,
    );
    assert!(matches!(parse(&refund), Err(ParseError::Invalid { field, .. }) if field == "data.object.amount_refunded"));
}
