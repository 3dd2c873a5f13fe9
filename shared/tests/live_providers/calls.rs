//! Each call's exact request, and how each answer maps.

use std::str::FromStr;

use rust_decimal::Decimal;
use shared::domain::{PaymentOutcome, ProviderKind, Timestamp};
use shared::ports::{Invoice, PaymentGateway};

use super::*;

fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::from_str(s).unwrap())
}

#[tokio::test]
async fn nowpayments_create_posts_the_payment_and_maps_the_answer() {
    let (fake, base) = fake().await;
    fake.answer(201, NP_CREATED);
    let mut req = request(ProviderKind::Nowpayments, 900);
    req.pay_currency = Some("BTC".into());

    let invoice = gateway(&base).create_invoice(&req).await.unwrap();

    assert_eq!(
        invoice,
        Invoice {
            provider: ProviderKind::Nowpayments,
            payment_id: "5745459419".into(),
            pay_address: Some("3EZ2uTdVDAMFXTfc6uLDDKR6o8qKBZXVkj".into()),
            pay_amount: Some("0.17070286".into()),
            pay_currency: Some("btc".into()),
            checkout_url: None,
        }
    );
    let seen = fake.only();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/payment"));
    assert_eq!(seen.header("x-api-key"), Some(NP_KEY));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("authorization"), None);
    // The price is a JSON number written from the exact decimal.
    assert!(seen.body.contains(r#""price_amount":55.00"#), "{}", seen.body);
    let body = seen.json();
    let want = serde_json::json!({
        "price_amount": 55.0,
        "price_currency": "usd",
        "pay_currency": "btc",
        "order_id": ORDER,
        "order_description": "Silver plan",
        "ipn_callback_url": "https://shop.example/api/webhooks/nowpayments",
    });
    assert_eq!(body, want);
}

#[tokio::test]
async fn nowpayments_create_defaults_the_coin_and_reads_numeric_ids() {
    let (fake, base) = fake().await;
    fake.answer(201, &NP_CREATED.replace(r#""payment_id": "5745459419""#, r#""payment_id": 5745459419"#));

    let invoice = gateway(&base).create_invoice(&request(ProviderKind::Nowpayments, 900)).await.unwrap();

    assert_eq!(invoice.payment_id, "5745459419");
    assert_eq!(fake.only().json()["pay_currency"], "usdttrc20");
}

#[tokio::test]
async fn nowpayments_lookup_maps_like_the_ipn() {
    let cases = [
        ("finished", "180", PaymentOutcome::Paid),
        ("partially_paid", "100.5", PaymentOutcome::PartiallyPaid),
        ("confirming", "0", PaymentOutcome::Confirming),
    ];
    for (status, paid, outcome) in cases {
        let (fake, base) = fake().await;
        let body = NP_STATUS
            .replace(r#""payment_status": "finished""#, &format!(r#""payment_status": "{status}""#))
            .replace(r#""actually_paid": 180"#, &format!(r#""actually_paid": {paid}"#));
        fake.answer(200, &body);

        let ev = gateway(&base).lookup(ProviderKind::Nowpayments, "5524759814").await.unwrap();

        assert_eq!(ev.outcome, outcome, "{status}");
        assert_eq!(ev.event_id, format!("5524759814:{status}"));
        assert_eq!(ev.raw_status, status);
        assert_eq!(ev.payment_id.as_deref(), Some("5524759814"));
        assert_eq!(ev.order_id.as_deref(), Some("RGDBP-21314"));
        assert_eq!((ev.price, ev.price_currency.as_deref()), (dec("5"), Some("usd")));
        assert_eq!((ev.pay_amount, ev.actually_paid), (dec("165.652609"), dec(paid)));
        let seen = fake.only();
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("GET", "/v1/payment/5524759814"));
        assert_eq!(seen.header("x-api-key"), Some(NP_KEY));
    }
}

#[tokio::test]
async fn stripe_create_posts_the_documented_form() {
    let (fake, base) = fake().await;
    fake.answer(200, SESSION);
    let req = request(ProviderKind::Stripe, 2 * 3600);

    let invoice = gateway(&base).create_invoice(&req).await.unwrap();

    assert_eq!(invoice.provider, ProviderKind::Stripe);
    assert_eq!(invoice.payment_id, SESSION_ID);
    assert!(invoice.checkout_url.as_deref().unwrap().starts_with("https://checkout.stripe.com/c/pay/cs_test_a11"));
    assert_eq!((invoice.pay_address, invoice.pay_amount, invoice.pay_currency), (None, None, None));
    let seen = fake.only();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/checkout/sessions"));
    assert_eq!(seen.header("authorization"), Some(format!("Bearer {STRIPE_KEY}").as_str()));
    assert_eq!(seen.header("idempotency-key"), Some(ORDER));
    assert_eq!(seen.header("content-type"), Some("application/x-www-form-urlencoded"));
    let expires = req.expires_at.secs().to_string();
    let want: BTreeMap<String, String> = [
        ("mode", "payment"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "5500"),
        ("line_items[0][price_data][product_data][name]", "Silver plan"),
        ("client_reference_id", ORDER),
        ("metadata[order_id]", ORDER),
        ("payment_intent_data[metadata][order_id]", ORDER),
        ("customer_email", "buyer@example.com"),
        ("expires_at", expires.as_str()),
        ("success_url", "https://shop.example/paid"),
        ("cancel_url", "https://shop.example/cancelled"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(seen.form(), want);
    // Bracket keys go on the wire percent-encoded, as Stripe's libraries send them.
    assert!(seen.body.contains("line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=5500"), "{}", seen.body);
}

#[tokio::test]
async fn stripe_expiry_is_held_to_its_30_minute_minimum() {
    let (fake, base) = fake().await;
    fake.answer(200, SESSION);
    let before = Timestamp::system_now().secs();

    gateway(&base).create_invoice(&request(ProviderKind::Stripe, 15 * 60)).await.unwrap();

    let after = Timestamp::system_now().secs();
    let sent: i64 = fake.only().form()["expires_at"].parse().unwrap();
    assert!((before + 31 * 60..=after + 31 * 60).contains(&sent), "{before} {sent} {after}");
}

#[tokio::test]
async fn stripe_lookup_maps_the_session_state() {
    let paid = SESSION
        .replace(r#""status": "open""#, r#""status": "complete""#)
        .replace(r#""payment_status": "unpaid""#, r#""payment_status": "paid""#)
        .replace(r#""client_reference_id": null"#, &format!(r#""client_reference_id": "{ORDER}""#))
        .replace(r#""metadata": {}"#, &format!(r#""metadata": {{"order_id": "{ORDER}"}}"#));
    let expired = SESSION.replace(r#""status": "open""#, r#""status": "expired""#);
    let cases = [
        (paid.as_str(), PaymentOutcome::Paid, "complete:paid", Some(ORDER)),
        (expired.as_str(), PaymentOutcome::Expired, "expired:unpaid", None),
        (SESSION, PaymentOutcome::Ignore, "open:unpaid", None),
    ];
    for (body, outcome, state, order) in cases {
        let (fake, base) = fake().await;
        fake.answer(200, body);

        let ev = gateway(&base).lookup(ProviderKind::Stripe, SESSION_ID).await.unwrap();

        assert_eq!(ev.outcome, outcome, "{state}");
        assert_eq!(ev.event_id, format!("lookup:{SESSION_ID}:{state}"));
        assert_eq!(ev.raw_status, state);
        assert_eq!(ev.payment_id.as_deref(), Some(SESSION_ID));
        assert_eq!(ev.order_id.as_deref(), order);
        if outcome != PaymentOutcome::Ignore {
            assert_eq!((ev.price, ev.price_currency.as_deref()), (dec("21.98"), Some("USD")));
        }
        let seen = fake.only();
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str()),
            ("GET", format!("/v1/checkout/sessions/{SESSION_ID}").as_str())
        );
        assert_eq!(seen.header("authorization"), Some(format!("Bearer {STRIPE_KEY}").as_str()));
    }
}

#[tokio::test]
async fn stripe_cancel_expires_the_session_and_not_open_is_done() {
    let expired = SESSION.replace(r#""status": "open""#, r#""status": "expired""#);
    for (status, body) in [(200, expired.as_str()), (400, STRIPE_NOT_OPEN)] {
        let (fake, base) = fake().await;
        fake.answer(status, body);

        gateway(&base).cancel(ProviderKind::Stripe, SESSION_ID).await.unwrap();

        let seen = fake.only();
        let path = format!("/v1/checkout/sessions/{SESSION_ID}/expire");
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", path.as_str()));
        assert_eq!(seen.header("authorization"), Some(format!("Bearer {STRIPE_KEY}").as_str()));
    }
}

#[tokio::test]
async fn nowpayments_cancel_calls_nobody() {
    let (fake, base) = fake().await;
    gateway(&base).cancel(ProviderKind::Nowpayments, "5745459419").await.unwrap();
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn stripe_refund_reads_the_payment_intent_and_refunds_it_once_per_key() {
    let (fake, base) = fake().await;
    let paid = SESSION.replace(r#""payment_intent": null"#, r#""payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa""#);
    fake.answer(200, &paid);
    fake.answer(200, r#"{"id": "re_1Nispe2eZvKYlo2Cd31jOCgZ", "object": "refund", "status": "succeeded"}"#);
    let amount = shared::domain::Money::usd(3000);

    let made = gateway(&base).refund(ProviderKind::Stripe, SESSION_ID, &amount, "refund-01JORDER").await.unwrap();

    assert_eq!(made, shared::ports::RefundMade::Provider("re_1Nispe2eZvKYlo2Cd31jOCgZ".into()));
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    let path = format!("/v1/checkout/sessions/{SESSION_ID}");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", path.as_str()));
    assert_eq!((seen[1].method.as_str(), seen[1].path.as_str()), ("POST", "/v1/refunds"));
    assert_eq!(seen[1].header("idempotency-key"), Some("refund-01JORDER"));
    assert_eq!(seen[1].header("authorization"), Some(format!("Bearer {STRIPE_KEY}").as_str()));
    let form = seen[1].form();
    assert_eq!((form["payment_intent"].as_str(), form["amount"].as_str()), ("pi_3MtwBwLkdIwHu7ix28a3tqPa", "3000"));
}

#[tokio::test]
async fn stripe_refund_of_an_unpaid_session_or_a_refusal_refunds_nothing() {
    let (fake, base) = fake().await;
    fake.answer(200, SESSION);
    let amount = shared::domain::Money::usd(3000);
    let err = gateway(&base).refund(ProviderKind::Stripe, SESSION_ID, &amount, "k").await;
    assert!(err.is_err(), "a session with no payment intent has nothing to refund");
    assert_eq!(fake.seen().len(), 1, "no refund was asked for");

    let (refusing, base) = super::fake().await;
    let paid = SESSION.replace(r#""payment_intent": null"#, r#""payment_intent": "pi_1""#);
    refusing.answer(200, &paid);
    refusing
        .answer(400, r#"{"error": {"type": "invalid_request_error", "message": "Charge has already been refunded."}}"#);
    let why = rejected(gateway(&base).refund(ProviderKind::Stripe, SESSION_ID, &amount, "k").await);
    assert!(why.contains("already been refunded"), "{why}");
}

#[tokio::test]
async fn nowpayments_refund_is_by_hand_and_calls_nobody() {
    let (fake, base) = fake().await;
    let amount = shared::domain::Money::usd(3000);
    let made = gateway(&base).refund(ProviderKind::Nowpayments, "5745459419", &amount, "k").await.unwrap();
    assert_eq!(made, shared::ports::RefundMade::Manual);
    assert!(fake.seen().is_empty());
}
