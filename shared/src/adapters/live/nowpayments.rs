//! NOWPayments: `POST /v1/payment` creates the payment for an order and
//! `GET /v1/payment/{id}` reads one back. A payment answer has the IPN's
//! fields, so both are read with the IPN parser.

use reqwest::Method;
use reqwest::header::{HeaderValue, InvalidHeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::http::{Api, Retry, check_id};
use crate::domain::{PaymentEvent, ProviderKind};
use crate::ports::{Invoice, InvoiceRequest, ProviderError};
use crate::providers::nowpayments::parse;

const API_KEY_HEADER: &str = "x-api-key";
const CREATE: &str = "/v1/payment";

#[derive(Debug)]
pub(super) struct NowPayments {
    pub api: Api,
    pub key: SecretString,
    pub ipn_callback_url: String,
    pub default_pay_currency: String,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    /// The exact decimal written as a JSON number: no float on the way.
    price_amount: Box<RawValue>,
    price_currency: String,
    pay_currency: String,
    order_id: &'a str,
    order_description: &'a str,
    ipn_callback_url: &'a str,
}

#[derive(Deserialize)]
struct Created {
    pay_address: Option<String>,
}

impl NowPayments {
    /// Sent once: the call takes no idempotency key, so a repeat after a lost
    /// answer would be a second payment for the same order.
    pub(super) async fn create(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError> {
        let price = RawValue::from_string(req.price.to_decimal().to_string())
            .map_err(|e| ProviderError::Unavailable(anyhow::Error::new(e).context("writing the price")))?;
        let pay_currency = req.pay_currency.as_deref().unwrap_or(&self.default_pay_currency);
        let body = CreateBody {
            price_amount: price,
            price_currency: req.price.currency.as_str().to_ascii_lowercase(),
            pay_currency: pay_currency.to_ascii_lowercase(),
            order_id: req.order_id.as_str(),
            order_description: &req.product_name,
            ipn_callback_url: &self.ipn_callback_url,
        };
        let key = self.key_header()?;
        let reply = self
            .api
            .send(Method::POST, CREATE, Retry::Never, |r| r.header(API_KEY_HEADER, key.clone()).json(&body))
            .await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let bad = |why: &str| self.api.bad_answer(&format!("POST {CREATE}"), why);
        let payment = parse(&raw).map_err(|e| bad(&e.to_string()))?;
        let created: Created = serde_json::from_slice(&raw).map_err(|e| bad(&e.to_string()))?;
        let payment_id = payment.payment_id.ok_or_else(|| bad("no payment_id"))?;
        check_id(self.api.provider, &payment_id).map_err(|_| bad("payment_id is not a plain id"))?;
        let given =
            |v: Option<String>, field: &str| v.filter(|s| !s.is_empty()).ok_or_else(|| bad(&format!("no {field}")));
        Ok(Invoice {
            provider: ProviderKind::Nowpayments,
            payment_id,
            pay_address: Some(given(created.pay_address, "pay_address")?),
            pay_amount: Some(given(payment.pay_amount.map(|d| d.to_string()), "pay_amount")?),
            pay_currency: Some(given(payment.pay_currency, "pay_currency")?),
            checkout_url: None,
        })
    }

    /// The payment as its IPN would say it now (event id `{id}:{status}`).
    pub(super) async fn lookup(&self, payment_id: &str) -> Result<PaymentEvent, ProviderError> {
        check_id(self.api.provider, payment_id)?;
        let path = format!("{CREATE}/{payment_id}");
        let key = self.key_header()?;
        let reply = self.api.send(Method::GET, &path, Retry::Safe, |r| r.header(API_KEY_HEADER, key.clone())).await?;
        let raw = self.api.body(reply, &self.key, message)?;
        let event = parse(&raw).map_err(|e| self.api.bad_answer(&format!("GET {path}"), e))?;
        if event.payment_id.as_deref() != Some(payment_id) {
            return Err(self.api.bad_answer(&format!("GET {path}"), "the answer is for another payment"));
        }
        Ok(event)
    }

    fn key_header(&self) -> Result<HeaderValue, ProviderError> {
        key_header(&self.key)
            .map_err(|_| ProviderError::Rejected("the NOWPayments API key is not a header value".into()))
    }
}

/// Marked sensitive so that no debug print of the request shows it.
pub(super) fn key_header(key: &SecretString) -> Result<HeaderValue, InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(key.expose_secret())?;
    value.set_sensitive(true);
    Ok(value)
}

/// NOWPayments errors read `{"status":false,"statusCode":400,"code":"...","message":"..."}`.
fn message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("message")?.as_str().map(str::to_owned)
}
