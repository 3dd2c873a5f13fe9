//! Whatever arrives, verifiers and parsers answer without panicking, and what
//! we sign ourselves verifies.

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{NowPaymentsVerifier, StripeVerifier, WebhookVerifier, nowpayments, stripe};
use crate::domain::Timestamp;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        "[a-z0-9.]{0,8}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects whose keys are the fields the parsers read, with any values.
fn provider_shaped() -> impl Strategy<Value = Value> {
    const KEYS: &str = "id type data object metadata order_id client_reference_id payment_status amount_total \
        amount_refunded refunded currency payment_intent payment_id price_amount price_currency pay_amount \
        actually_paid pay_currency parent_payment_id";
    let keys: Vec<&'static str> = KEYS.split_whitespace().collect();
    let kinds = prop_oneof![
        Just("checkout.session.completed"),
        Just("checkout.session.async_payment_succeeded"),
        Just("checkout.session.expired"),
        Just("charge.refunded"),
        Just("finished"),
        Just("partially_paid"),
    ]
    .prop_map(|s| Value::String(s.into()));
    let leaf = prop_oneof![json(), kinds];
    leaf.prop_recursive(3, 40, 8, move |inner| {
        prop::collection::vec((prop::sample::select(keys.clone()), inner), 0..8)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>()))
    })
}

fn secrets() -> Vec<SecretString> {
    vec![SecretString::from("s1"), SecretString::from("s2")]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..400),
                                   header in prop::collection::vec(any::<u8>(), 0..200),
                                   now in any::<i64>()) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&header) {
            headers.insert(nowpayments::SIGNATURE_HEADER, value.clone());
            headers.insert(stripe::SIGNATURE_HEADER, value);
        }
        let now = Timestamp(now);
        let _ = NowPaymentsVerifier::new(secrets()).verify(&headers, &body, now);
        let _ = StripeVerifier::new(secrets()).verify(&headers, &body, now);
        let _ = nowpayments::parse(&body);
        let _ = stripe::parse(&body);
        let _ = nowpayments::sign("s1", &body);
    }

    #[test]
    fn provider_shaped_json_never_panics(body in provider_shaped(), t in any::<i64>()) {
        let raw = serde_json::to_vec(&body).unwrap();
        let _ = nowpayments::parse(&raw);
        let _ = stripe::parse(&raw);
        let mut headers = HeaderMap::new();
        headers.insert(stripe::SIGNATURE_HEADER, HeaderValue::from_str(&stripe::signature_header("s1", t, &raw)).unwrap());
        let _ = StripeVerifier::new(secrets()).verify(&headers, &raw, Timestamp(t));
    }

    #[test]
    fn nowpayments_signatures_round_trip(body in json(), pretty in any::<bool>()) {
        let raw = if pretty { serde_json::to_vec_pretty(&body) } else { serde_json::to_vec(&body) }.unwrap();
        let sig = nowpayments::sign_value("s2", &body);
        prop_assert_eq!(&nowpayments::sign("s2", &raw).unwrap(), &sig);
        let mut headers = HeaderMap::new();
        headers.insert(nowpayments::SIGNATURE_HEADER, HeaderValue::from_str(&sig).unwrap());
        prop_assert_eq!(NowPaymentsVerifier::new(secrets()).verify(&headers, &raw, Timestamp(0)), Ok(()));
        let other = NowPaymentsVerifier::new(vec![SecretString::from("s3")]);
        prop_assert!(other.verify(&headers, &raw, Timestamp(0)).is_err());
    }

    #[test]
    fn stripe_signatures_round_trip(body in prop::collection::vec(any::<u8>(), 0..300),
                                    t in 0i64..4_000_000_000, skew in -300i64..=300, flip in any::<prop::sample::Index>()) {
        let header = stripe::signature_header("s2", t, &body);
        let mut headers = HeaderMap::new();
        headers.insert(stripe::SIGNATURE_HEADER, HeaderValue::from_str(&header).unwrap());
        let v = StripeVerifier::new(secrets());
        prop_assert_eq!(v.verify(&headers, &body, Timestamp::from_secs(t + skew)), Ok(()));
        if !body.is_empty() {
            let mut tampered = body.clone();
            tampered[flip.index(body.len())] ^= 1;
            prop_assert_eq!(v.verify(&headers, &tampered, Timestamp::from_secs(t)), Err(super::SignatureError::Mismatch));
        }
    }
}
