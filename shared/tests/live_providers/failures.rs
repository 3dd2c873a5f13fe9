//! Down, slow, refusing and flaky providers; retries only where safe; keys
//! never printed.

use shared::adapters::live::LiveConfigError;
use shared::domain::ProviderKind;
use shared::ports::PaymentGateway;

use super::*;

const NP_ERROR: &str =
    r#"{"status":false,"statusCode":400,"code":"INVALID_REQUEST_PARAMS","message":"pay_currency is not supported"}"#;
const STRIPE_ERROR: &str = r#"{"error":{"code":"email_invalid","doc_url":"https://stripe.com/docs/error-codes/email-invalid","message":"Invalid email address: buyer@example","param":"customer_email","type":"invalid_request_error"}}"#;
const STRIPE_BAD_KEY: &str =
    r#"{"error":{"message":"Invalid API Key provided: sk_test_****y456","type":"invalid_request_error"}}"#;

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let base = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let gw = gateway(&base);
    let chain = unavailable(gw.create_invoice(&request(ProviderKind::Nowpayments, 900)).await);
    assert!(chain.contains("could not connect"), "{chain}");
    unavailable(gw.create_invoice(&request(ProviderKind::Stripe, 3600)).await);
    unavailable(gw.lookup(ProviderKind::Stripe, SESSION_ID).await);
}

#[tokio::test]
async fn a_slow_provider_times_out_as_unavailable() {
    let (fake, base) = fake().await;
    let mut config = config(&base);
    config.total_timeout = Duration::from_millis(300);
    let gw = LiveGateway::new(config).unwrap();
    fake.answer_after(Duration::from_secs(5), 200, NP_STATUS);
    fake.answer_after(Duration::from_secs(5), 201, NP_CREATED);

    let chain = unavailable(gw.lookup(ProviderKind::Nowpayments, "5524759814").await);
    assert!(chain.contains("timed out"), "{chain}");
    let chain = unavailable(gw.create_invoice(&request(ProviderKind::Nowpayments, 900)).await);
    assert!(chain.contains("timed out"), "{chain}");
    // The deadline covers retries too: no time was left for a second try.
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn a_4xx_is_rejected_with_the_providers_message() {
    let (fake, base) = fake().await;
    fake.answer(400, NP_ERROR).answer(400, STRIPE_ERROR).answer(404, r#"{"message":"Payment not found"}"#);
    let gw = gateway(&base);

    let said = rejected(gw.create_invoice(&request(ProviderKind::Nowpayments, 900)).await);
    assert_eq!(said, "NOWPayments: pay_currency is not supported (HTTP 400)");
    let said = rejected(gw.create_invoice(&request(ProviderKind::Stripe, 3600)).await);
    assert_eq!(said, "Stripe: Invalid email address: buyer@example (HTTP 400)");
    let said = rejected(gw.lookup(ProviderKind::Nowpayments, "1").await);
    assert_eq!(said, "NOWPayments: Payment not found (HTTP 404)");
    // A 4xx is final: nothing was retried.
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn a_refused_key_is_never_quoted() {
    let (fake, base) = fake().await;
    fake.answer(401, STRIPE_BAD_KEY);
    let said = rejected(gateway(&base).lookup(ProviderKind::Stripe, SESSION_ID).await);
    assert_eq!(said, "Stripe refused our API key (HTTP 401)");
    assert!(!said.contains("sk_"));
}

#[tokio::test]
async fn expiring_fails_when_stripe_refuses_for_another_reason() {
    let (fake, base) = fake().await;
    fake.answer(400, STRIPE_ERROR);
    let said = rejected(gateway(&base).cancel(ProviderKind::Stripe, SESSION_ID).await);
    assert!(said.contains("Invalid email address"), "{said}");
}

#[tokio::test]
async fn a_get_is_retried_after_a_500() {
    let (fake, base) = fake().await;
    fake.answer(500, "{}").answer(200, NP_STATUS);

    let ev = gateway(&base).lookup(ProviderKind::Nowpayments, "5524759814").await.unwrap();

    assert_eq!(ev.event_id, "5524759814:finished");
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.method == Method::GET && s.path == "/v1/payment/5524759814"));
}

#[tokio::test]
async fn retries_stop_after_three_attempts() {
    let (fake, base) = fake().await;
    fake.answer(429, "{}").answer(503, "{}").answer(500, "{}").answer(200, SESSION);

    let chain = unavailable(gateway(&base).lookup(ProviderKind::Stripe, SESSION_ID).await);

    assert!(chain.contains("HTTP 500"), "{chain}");
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn the_nowpayments_create_is_sent_once() {
    let (fake, base) = fake().await;
    fake.answer(500, "{}").answer(201, NP_CREATED);

    unavailable(gateway(&base).create_invoice(&request(ProviderKind::Nowpayments, 900)).await);

    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn the_stripe_create_is_retried_with_the_same_key_and_form() {
    let (fake, base) = fake().await;
    fake.answer(502, "{}").answer(200, SESSION);

    let invoice = gateway(&base).create_invoice(&request(ProviderKind::Stripe, 3600)).await.unwrap();

    assert_eq!(invoice.payment_id, SESSION_ID);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("idempotency-key"), Some(ORDER));
    assert_eq!(seen[1].header("idempotency-key"), Some(ORDER));
    assert_eq!(seen[0].body, seen[1].body);
}

#[tokio::test]
async fn odd_ids_and_unreadable_answers_are_caught() {
    let (fake, base) = fake().await;
    let gw = gateway(&base);
    rejected(gw.lookup(ProviderKind::Stripe, "../v1/charges").await);
    assert!(fake.seen().is_empty());
    fake.answer(200, "<html>").answer(200, &NP_STATUS.replace("5524759814", "1"));
    unavailable(gw.lookup(ProviderKind::Stripe, SESSION_ID).await);
    let chain = unavailable(gw.lookup(ProviderKind::Nowpayments, "5524759814").await);
    assert!(chain.contains("another payment"), "{chain}");
}

#[test]
fn keys_never_show_in_debug_output() {
    let config = config("http://127.0.0.1:9");
    let gw = LiveGateway::new(config.clone()).unwrap();
    for shown in [format!("{config:?}"), format!("{gw:?}"), format!("{gw:#?}")] {
        assert!(!shown.contains(NP_KEY) && !shown.contains(STRIPE_KEY), "{shown}");
        assert!(!shown.contains("SECRET") && !shown.contains("TEST_7Hq2"), "{shown}");
    }
    assert!(format!("{gw:?}").contains("http://127.0.0.1:9"));
}

#[test]
fn bad_settings_fail_at_start_up() {
    let with = |change: fn(&mut LiveConfig)| {
        let mut c = config("http://127.0.0.1:9");
        change(&mut c);
        LiveGateway::new(c).err()
    };
    let url = with(|c| c.stripe_api_url = "api.stripe.com".into());
    assert!(matches!(url, Some(LiveConfigError::Url { name: "stripe_api_url", .. })), "{url:?}");
    let key = with(|c| c.nowpayments_api_key = SecretString::from(""));
    assert!(matches!(key, Some(LiveConfigError::Key("nowpayments_api_key"))), "{key:?}");
    let key = with(|c| c.stripe_secret_key = SecretString::from("line\nbreak"));
    assert!(matches!(key, Some(LiveConfigError::Key("stripe_secret_key"))), "{key:?}");
    let timeout = with(|c| c.total_timeout = Duration::MAX);
    assert!(matches!(timeout, Some(LiveConfigError::Timeout("total_timeout"))), "{timeout:?}");
}
