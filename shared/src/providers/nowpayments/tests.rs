//! Known answers computed with Python (`hmac`, `hashlib`, `json.dumps(body,
//! sort_keys=True, separators=(',', ':'))`), pasted here as literals.

use std::str::FromStr;

use http::{HeaderMap, HeaderValue};
use rust_decimal::Decimal;
use secrecy::SecretString;

use super::*;
use crate::domain::PaymentOutcome;

const SECRET: &str = "ipn_test_secret_7Hq2";
const FINISHED: &[u8] = include_bytes!("../testdata/nowpayments_finished.json");
const REPEAT: &[u8] = include_bytes!("../testdata/nowpayments_repeat.json");
const EXPONENT: &[u8] = include_bytes!("../testdata/nowpayments_exponent.json");

// FINISHED: number tokens as received, Python's ensure_ascii escaping.
const FINISHED_ASCII: &str = "0529141484eec8f7969fc362af763083c660e8cfe613d7029e99aa1e7a9722d34535dca3d480bb4d8187de1113e3bd26e684c61d78ee38e3c9f0c5ce5d074dad";
// FINISHED: the same with non-ASCII left as is (JSON.stringify).
const FINISHED_UTF8: &str = "6a0d79d0d82d59e777c07854bae432d35ba749544132ef68657bd8dc2ac221ec2eb0429f2fbe32c8bffa52abd765c29141325365f0e7eec49ff99991f6393569";
// FINISHED through Python floats: serviceFee 0.0000012 becomes 1.2e-06.
const FINISHED_FLOAT_ROUND_TRIP: &str = "af9d653f4adf0ca5c47124695b119ef6c9063aa21b418e4773414c315eeb50d68c766ab1cc2c17a3392ac1d1b7b44898ade01baca9cee430b2b8e87d634fb857";
// FINISHED keyed with "ipn_old_secret".
const FINISHED_OLD_SECRET: &str = "45c71c2d7fdc19c90023197912e9eb1d83d4d31f590e10673ba5d0a04063a8ca95cedcc1c65c9e7568dfd812446207461aa562f7cf6456f19e62adda6cb19810";
// REPEAT (escapes, surrogate pair, non-ASCII key): plain json.loads/json.dumps.
const REPEAT_ASCII: &str = "f159bf4e2af3e1051417059394308141b7cae7c6b4aa84f635f0fd7fcd0728dd95aa7a4ad413e7a1e3cb8419c456b6233f920b5f08b20445e9af0123122d5e9d";
const REPEAT_UTF8: &str = "160b79fac092d11e5f7e241d82201a3804953cac355732ae3865446b10524fe392d9c4489852b55029441a7019e5c8a8ca7060e32cb62aceaf73bfbd38a9a4d5";
// EXPONENT: tokens 1e-7 and 2.50E+1 hashed as received.
const EXPONENT_ASCII: &str = "d6842ec5e9268d7505ab643a2eb2248ab62e43d5f2fad7d5d693e5fd3a7e4e85640c775584fe6a7487eddf67e23759dcbf0e9a44c9df19c5f99441b398e3b674";

fn verifier(secrets: &[&str]) -> NowPaymentsVerifier {
    NowPaymentsVerifier::new(secrets.iter().map(|s| SecretString::from(*s)).collect())
}

fn headers(sig: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(SIGNATURE_HEADER, HeaderValue::from_str(sig).unwrap());
    h
}

fn check(secrets: &[&str], sig: &str, body: &[u8]) -> Result<(), SignatureError> {
    verifier(secrets).verify(&headers(sig), body, Timestamp(0))
}

#[test]
fn python_vectors_verify() {
    assert_eq!(check(&[SECRET], FINISHED_ASCII, FINISHED), Ok(()));
    assert_eq!(check(&[SECRET], REPEAT_ASCII, REPEAT), Ok(()));
    assert_eq!(check(&[SECRET], EXPONENT_ASCII, EXPONENT), Ok(()));
}

#[test]
fn json_stringify_style_escaping_verifies_too() {
    assert_eq!(check(&[SECRET], FINISHED_UTF8, FINISHED), Ok(()));
    assert_eq!(check(&[SECRET], REPEAT_UTF8, REPEAT), Ok(()));
}

#[test]
fn hex_case_does_not_matter() {
    assert_eq!(check(&[SECRET], &FINISHED_ASCII.to_uppercase(), FINISHED), Ok(()));
}

#[test]
fn numbers_are_hashed_as_received_not_as_floats() {
    let canonical = Node::parse(FINISHED).unwrap().render(Escape::Ascii);
    assert!(canonical.contains(r#""serviceFee":0.0000012"#), "{canonical}");
    // A signer that round-trips through floats signed other bytes.
    assert_eq!(check(&[SECRET], FINISHED_FLOAT_ROUND_TRIP, FINISHED), Err(SignatureError::Mismatch));
}

#[test]
fn sign_reproduces_the_python_vectors() {
    assert_eq!(sign(SECRET, FINISHED).unwrap(), FINISHED_ASCII);
    assert_eq!(sign(SECRET, REPEAT).unwrap(), REPEAT_ASCII);
    assert!(sign(SECRET, b"not json").is_err());
    let body = serde_json::json!({"payment_id": 1, "payment_status": "finished", "price_amount": 0.5});
    let raw = serde_json::to_vec(&body).unwrap();
    assert_eq!(check(&[SECRET], &sign_value(SECRET, &body), &raw), Ok(()));
}

#[test]
fn any_of_several_secrets_verifies() {
    assert_eq!(check(&["ipn_new_secret", "ipn_old_secret"], FINISHED_OLD_SECRET, FINISHED), Ok(()));
    assert_eq!(check(&["ipn_old_secret", SECRET], FINISHED_ASCII, FINISHED), Ok(()));
    assert_eq!(check(&["ipn_new_secret"], FINISHED_OLD_SECRET, FINISHED), Err(SignatureError::Mismatch));
    assert_eq!(check(&[], FINISHED_ASCII, FINISHED), Err(SignatureError::Mismatch));
}

#[test]
fn an_empty_secret_never_verifies() {
    let sig = sign("", FINISHED).unwrap();
    assert_eq!(check(&[""], &sig, FINISHED), Err(SignatureError::Mismatch));
}

#[test]
fn tampering_is_a_mismatch() {
    let tampered = String::from_utf8(FINISHED.to_vec()).unwrap().replace("\"price_amount\": 30", "\"price_amount\": 3");
    assert_ne!(tampered.as_bytes(), FINISHED);
    assert_eq!(check(&[SECRET], FINISHED_ASCII, tampered.as_bytes()), Err(SignatureError::Mismatch));
    assert_eq!(check(&[SECRET], FINISHED_ASCII, b"{}"), Err(SignatureError::Mismatch));
    assert_eq!(check(&[SECRET], FINISHED_ASCII, b"not json"), Err(SignatureError::Mismatch));
}

#[test]
fn bad_headers_are_missing_or_malformed() {
    let v = verifier(&[SECRET]);
    assert_eq!(v.verify(&HeaderMap::new(), FINISHED, Timestamp(0)), Err(SignatureError::Missing));
    assert!(matches!(check(&[SECRET], "zz", FINISHED), Err(SignatureError::Malformed(_))));
    assert!(matches!(check(&[SECRET], &FINISHED_ASCII[..126], FINISHED), Err(SignatureError::Malformed(_))));
    let mut twice = headers(FINISHED_ASCII);
    twice.append(SIGNATURE_HEADER, HeaderValue::from_static("00"));
    assert!(matches!(v.verify(&twice, FINISHED, Timestamp(0)), Err(SignatureError::Malformed(_))));
}

fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::from_str(s).unwrap())
}

#[test]
fn parses_a_finished_ipn() {
    let ev = parse(FINISHED).unwrap();
    assert_eq!(ev.provider, crate::domain::ProviderKind::Nowpayments);
    assert_eq!(ev.event_id, "5077125051:finished");
    assert_eq!(ev.raw_status, "finished");
    assert_eq!(ev.order_id.as_deref(), Some("01J9Z8X7W6V5T4S3R2Q1P0N9M8"));
    assert_eq!(ev.payment_id.as_deref(), Some("5077125051"));
    assert_eq!(ev.invoice_id(), Some("5077125051"));
    assert_eq!(ev.outcome, PaymentOutcome::Paid);
    assert_eq!((ev.price, ev.price_currency.as_deref()), (dec("30"), Some("usd")));
    assert_eq!((ev.pay_amount, ev.actually_paid), (dec("0.00012345"), dec("0.00012345")));
    assert_eq!(ev.pay_currency.as_deref(), Some("btc"));
    assert!(!ev.is_repeat_deposit);
}

#[test]
fn parses_string_amounts_and_repeat_deposits() {
    let ev = parse(REPEAT).unwrap();
    assert_eq!(ev.event_id, "6120021001:partially_paid");
    assert_eq!(ev.outcome, PaymentOutcome::PartiallyPaid);
    assert_eq!((ev.pay_amount, ev.actually_paid), (dec("0.0015"), dec("0.0009")));
    assert!(ev.is_repeat_deposit);
    let ev = parse(EXPONENT).unwrap();
    assert_eq!((ev.outcome, ev.order_id), (PaymentOutcome::Ignore, None));
    assert_eq!((ev.pay_amount, ev.price), (dec("0.0000001"), dec("25.0")));
}

#[test]
fn maps_every_status() {
    let cases = [
        ("waiting", PaymentOutcome::Ignore),
        ("confirming", PaymentOutcome::Confirming),
        ("confirmed", PaymentOutcome::Confirming),
        ("sending", PaymentOutcome::Confirming),
        ("partially_paid", PaymentOutcome::PartiallyPaid),
        ("finished", PaymentOutcome::Paid),
        ("failed", PaymentOutcome::Failed),
        ("refunded", PaymentOutcome::Refunded),
        ("expired", PaymentOutcome::Expired),
        ("cancelled", PaymentOutcome::Failed),
        ("something_new", PaymentOutcome::Ignore),
    ];
    for (status, want) in cases {
        let body = format!(
            r#"{{"payment_id":1,"payment_status":"{status}","price_amount":30,"price_currency":"usd",
               "pay_amount":"0.1","actually_paid":0.1,"pay_currency":"btc","parent_payment_id":null}}"#
        );
        let ev = parse(body.as_bytes()).unwrap();
        assert_eq!(ev.outcome, want, "{status}");
        assert_eq!(ev.event_id, format!("1:{status}"));
    }
}

#[test]
fn refuses_what_is_not_an_ipn() {
    assert!(matches!(parse(b"nope"), Err(ParseError::NotJson(_))));
    assert_eq!(parse(b"[1]"), Err(ParseError::NotObject));
    assert_eq!(parse(br#"{"payment_status":"finished"}"#), Err(ParseError::Missing("payment_id".into())));
    assert_eq!(parse(br#"{"payment_id":1}"#), Err(ParseError::Missing("payment_status".into())));
    let bad_amount = br#"{"payment_id":1,"payment_status":"waiting","pay_amount":"lots"}"#;
    assert!(matches!(parse(bad_amount), Err(ParseError::Invalid { field, .. }) if field == "pay_amount"));
    let bad_id = br#"{"payment_id":1.5,"payment_status":"waiting"}"#;
    assert!(matches!(parse(bad_id), Err(ParseError::Invalid { field, .. }) if field == "payment_id"));
    // Paid without amounts would slip past the money check.
    let bare_paid = br#"{"payment_id":1,"payment_status":"finished","price_amount":30,"price_currency":"usd"}"#;
    assert_eq!(parse(bare_paid), Err(ParseError::Missing("pay_amount".into())));
}

#[test]
fn refuses_negative_and_impossible_amounts() {
    let body = |price: &str, pay: &str, paid: &str, status: &str| {
        format!(
            r#"{{"payment_id":1,"payment_status":"{status}","price_amount":{price},"price_currency":"usd",
               "pay_amount":{pay},"actually_paid":{paid},"pay_currency":"btc"}}"#
        )
    };
    let cases = [
        ("30", "-1", "-1", "pay_amount"),
        ("30", "0.1", "-1", "actually_paid"),
        ("30", "0.1", "-0.00000001", "actually_paid"),
        ("30", "0.1", "\"-0.1\"", "actually_paid"),
        ("-30", "0.1", "0.1", "price_amount"),
        ("30", "0.1", "1e400", "actually_paid"),
        ("30", "1e400", "0.1", "pay_amount"),
        ("30", "0.1", "\"NaN\"", "actually_paid"),
        ("30", "0.1", "\"Infinity\"", "actually_paid"),
        ("30", "0.1", "79228162514264337593543950336", "actually_paid"),
    ];
    // Refused whatever the status: an amount that is not money is not read.
    for status in ["finished", "partially_paid", "waiting", "refunded"] {
        for (price, pay, paid, field) in cases {
            let got = parse(body(price, pay, paid, status).as_bytes());
            assert!(
                matches!(&got, Err(ParseError::Invalid { field: f, .. }) if f == field),
                "{status} {price}/{pay}/{paid}: {got:?}"
            );
        }
    }
    // Zero is an amount (nothing arrived yet); the money check handles it.
    let ev = parse(body("30", "0.1", "0", "partially_paid").as_bytes()).unwrap();
    assert_eq!(ev.actually_paid, dec("0"));
}
