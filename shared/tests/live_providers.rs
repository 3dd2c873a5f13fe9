//! The live gateway against a fake provider started in-process: it records
//! every request (method, path, headers, body) and answers with scripted
//! bodies copied from the providers' documented examples.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use shared::adapters::live::{LiveConfig, LiveGateway};
use shared::domain::{Money, OrderId, ProviderKind, Timestamp};
use shared::ports::{InvoiceRequest, ProviderError};

pub const NP_KEY: &str = "np_key_TEST_7Hq2";
pub const STRIPE_KEY: &str = "sk_test_51SECRETkey456";
pub const ORDER: &str = "01J9Z8X7W6V5T4S3R2Q1P0N9M8";

/// NOWPayments "Create payment" documented example response.
pub const NP_CREATED: &str = r#"{
  "payment_id": "5745459419",
  "payment_status": "waiting",
  "pay_address": "3EZ2uTdVDAMFXTfc6uLDDKR6o8qKBZXVkj",
  "price_amount": 3999.5,
  "price_currency": "usd",
  "pay_amount": 0.17070286,
  "pay_currency": "btc",
  "order_id": "RGDBP-21314",
  "order_description": "Apple Macbook Pro 2019 x 1",
  "ipn_callback_url": "https://nowpayments.io",
  "created_at": "2020-12-22T15:00:22.742Z",
  "updated_at": "2020-12-22T15:00:22.742Z",
  "purchase_id": "5837122679",
  "amount_received": null,
  "payin_extra_id": null,
  "smart_contract": "",
  "network": "btc",
  "network_precision": 8,
  "time_limit": null,
  "burning_percent": null,
  "expiration_estimate_date": "2020-12-23T15:00:22.742Z"
}"#;

/// NOWPayments "Get payment status" documented example response.
pub const NP_STATUS: &str = r#"{
  "payment_id": 5524759814,
  "payment_status": "finished",
  "pay_address": "TNDFkiSmBQorNFacb3735q8MnT29sn8BLn",
  "price_amount": 5,
  "price_currency": "usd",
  "pay_amount": 165.652609,
  "actually_paid": 180,
  "pay_currency": "trx",
  "order_id": "RGDBP-21314",
  "order_description": "Apple Macbook Pro 2019 x 1",
  "purchase_id": "4944856743",
  "created_at": "2020-12-16T14:30:43.306Z",
  "updated_at": "2020-12-16T14:40:46.523Z",
  "outcome_amount": 178.9005,
  "outcome_currency": "trx"
}"#;

pub const SESSION_ID: &str = "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u";

/// Stripe's documented Checkout Session object (API reference), as created.
pub const SESSION: &str = r#"{
  "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
  "object": "checkout.session",
  "after_expiration": null,
  "allow_promotion_codes": null,
  "amount_subtotal": 2198,
  "amount_total": 2198,
  "automatic_tax": {"enabled": false, "liability": null, "status": null},
  "billing_address_collection": null,
  "cancel_url": null,
  "client_reference_id": null,
  "consent": null,
  "consent_collection": null,
  "created": 1679600215,
  "currency": "usd",
  "custom_fields": [],
  "custom_text": {"shipping_address": null, "submit": null},
  "customer": null,
  "customer_creation": "if_required",
  "customer_details": null,
  "customer_email": null,
  "expires_at": 1679686615,
  "invoice": null,
  "livemode": false,
  "locale": null,
  "metadata": {},
  "mode": "payment",
  "payment_intent": null,
  "payment_link": null,
  "payment_method_collection": "always",
  "payment_method_options": {},
  "payment_method_types": ["card"],
  "payment_status": "unpaid",
  "phone_number_collection": {"enabled": false},
  "recovered_from": null,
  "setup_intent": null,
  "shipping_address_collection": null,
  "shipping_cost": null,
  "shipping_details": null,
  "shipping_options": [],
  "status": "open",
  "submit_type": null,
  "subscription": null,
  "success_url": "https://example.com/success",
  "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
  "url": "https://checkout.stripe.com/c/pay/cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u#fidkdWxOYHwnPyd1blpxYHZxWjA0SDdPUW5JbmFMck1wMmx9N2BLZjFEfGRUNWhqTmJ%2FM2F8bUA2SDRySkFdUV81T1BSV0YxcWJcTUJcYW5rSzN3dzBLPUE0TzRKTTxzNFBjPWZEX1NKSkxpNTVjRjN8VHE0YicpJ2N3amhWYHdzYHcnP3F3cGApJ2lkfGpwcVF8dWAnPyd2bGtiaWBabHFgaCcpJ2BrZGdpYFVpZGZgbWppYWB3dic%2FcXdwYHgl"
}"#;

/// Stripe's answer to expiring a session that is no longer open.
pub const STRIPE_NOT_OPEN: &str = r#"{"error":{"message":"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of `expired`.","request_log_url":"https://dashboard.stripe.com/test/logs/req_x","type":"invalid_request_error"}}"#;

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// The form body's pairs, decoded (through a URL's query parser).
    pub fn form(&self) -> BTreeMap<String, String> {
        let url = reqwest::Url::parse(&format!("http://x/?{}", self.body)).unwrap();
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }
}

struct Answer {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Clone, Default)]
pub struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl Fake {
    /// Queues the next answer.
    pub fn answer(&self, status: u16, body: &str) -> &Self {
        self.answer_after(Duration::ZERO, status, body)
    }

    pub fn answer_after(&self, delay: Duration, status: u16, body: &str) -> &Self {
        self.script.lock().unwrap().push_back(Answer { status, body: body.to_string(), delay });
        self
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn only(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        seen[0].clone()
    }
}

async fn record(State(fake): State<Fake>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = String::from_utf8(body.to_vec()).unwrap();
    fake.seen.lock().unwrap().push(Seen { method, path: uri.path().to_string(), headers, body });
    let next = fake.script.lock().unwrap().pop_front();
    let Some(answer) = next else { return (StatusCode::IM_A_TEAPOT, "no answer scripted").into_response() };
    tokio::time::sleep(answer.delay).await;
    let status = StatusCode::from_u16(answer.status).unwrap();
    (status, [("content-type", "application/json")], answer.body).into_response()
}

/// A fake provider on 127.0.0.1 and its base URL.
pub async fn fake() -> (Fake, String) {
    let fake = Fake::default();
    let app = Router::new().fallback(record).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

pub fn config(base: &str) -> LiveConfig {
    let mut c = LiveConfig::new(
        SecretString::from(NP_KEY),
        SecretString::from(STRIPE_KEY),
        "https://shop.example/api/",
        "https://shop.example/paid",
        "https://shop.example/cancelled",
    );
    c.nowpayments_api_url = base.to_string();
    c.stripe_api_url = format!("{base}/");
    c
}

pub fn gateway(base: &str) -> LiveGateway {
    LiveGateway::new(config(base)).unwrap()
}

pub fn request(provider: ProviderKind, hold_secs: i64) -> InvoiceRequest {
    InvoiceRequest {
        provider,
        order_id: OrderId::parse(ORDER).unwrap(),
        product_id: "silver".into(),
        product_name: "Silver plan".into(),
        price: Money::usd(5500),
        pay_currency: None,
        expires_at: Timestamp::system_now().plus_secs(hold_secs),
        email: "buyer@example.com".into(),
    }
}

pub fn rejected(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::Rejected(message)) => message,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

/// The Unavailable error's whole chain, as text.
pub fn unavailable(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::Unavailable(cause)) => format!("{cause:#}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[path = "live_providers/calls.rs"]
mod calls;
#[path = "live_providers/failures.rs"]
mod failures;
