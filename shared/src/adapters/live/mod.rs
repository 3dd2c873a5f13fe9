//! The live payment gateway: NOWPayments and Stripe over HTTPS, through one
//! `reqwest` client (rustls) built once. `http` holds the deadline, retry and
//! error rules both providers share.

mod http;
mod nowpayments;
mod stripe;

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{Money, PaymentEvent, ProviderKind};
use crate::ports::{Invoice, InvoiceRequest, PaymentGateway, ProviderError, RefundMade};

pub const NOWPAYMENTS_API_URL: &str = "https://api.nowpayments.io";
pub const STRIPE_API_URL: &str = "https://api.stripe.com";
/// The coin a NOWPayments buyer pays in when the checkout names none.
pub const DEFAULT_PAY_CURRENCY: &str = "usdttrc20";
/// The default deadline of one gateway call, retries included
/// (`LiveConfig::total_timeout`). A Lambda function that calls a provider
/// needs a longer Timeout: scripts/lint-infra.sh reads this line and checks
/// infra/template.yaml against it.
pub const PROVIDER_DEADLINE: Duration = Duration::from_secs(10);
/// Longer than any caller (API Gateway allows 29 s) would wait.
const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// Debug shows the keys as `[REDACTED]` (secrecy).
#[derive(Clone, Debug)]
pub struct LiveConfig {
    pub nowpayments_api_url: String,
    pub nowpayments_api_key: SecretString,
    pub stripe_api_url: String,
    pub stripe_secret_key: SecretString,
    /// Our API's base URL: NOWPayments posts IPNs to `{public_url}/webhooks/nowpayments`.
    pub public_url: String,
    /// Where Stripe Checkout sends the buyer after paying, or giving up.
    pub success_url: String,
    pub cancel_url: String,
    pub default_pay_currency: String,
    pub connect_timeout: Duration,
    /// For a whole gateway call, retries included, so a checkout that waits
    /// on a provider waits this long at most.
    pub total_timeout: Duration,
}

impl LiveConfig {
    /// The real providers' URLs, `usdttrc20`, 3 s to connect, 10 s in all.
    pub fn new(
        nowpayments_api_key: SecretString,
        stripe_secret_key: SecretString,
        public_url: impl Into<String>,
        success_url: impl Into<String>,
        cancel_url: impl Into<String>,
    ) -> Self {
        LiveConfig {
            nowpayments_api_url: NOWPAYMENTS_API_URL.into(),
            nowpayments_api_key,
            stripe_api_url: STRIPE_API_URL.into(),
            stripe_secret_key,
            public_url: public_url.into(),
            success_url: success_url.into(),
            cancel_url: cancel_url.into(),
            default_pay_currency: DEFAULT_PAY_CURRENCY.into(),
            connect_timeout: Duration::from_secs(3),
            total_timeout: PROVIDER_DEADLINE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveConfigError {
    #[error("{name} is not an http(s) URL: {value:?}")]
    Url { name: &'static str, value: String },
    #[error("{0} is empty or not usable as an HTTP header")]
    Key(&'static str),
    #[error("{0} must be more than zero and at most {MAX_TIMEOUT:?}")]
    Timeout(&'static str),
    #[error("building the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Debug shows the providers' URLs, never the keys.
#[derive(Debug)]
pub struct LiveGateway {
    nowpayments: nowpayments::NowPayments,
    stripe: stripe::Stripe,
}

impl LiveGateway {
    /// Checks the URLs and keys now, so a bad setting fails at start-up.
    pub fn new(config: LiveConfig) -> Result<Self, LiveConfigError> {
        for (name, value) in [
            ("nowpayments_api_url", &config.nowpayments_api_url),
            ("stripe_api_url", &config.stripe_api_url),
            ("public_url", &config.public_url),
            ("success_url", &config.success_url),
            ("cancel_url", &config.cancel_url),
        ] {
            let parsed = reqwest::Url::parse(value).ok();
            if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Err(LiveConfigError::Url { name, value: value.clone() });
            }
        }
        for (name, key) in
            [("nowpayments_api_key", &config.nowpayments_api_key), ("stripe_secret_key", &config.stripe_secret_key)]
        {
            if key.expose_secret().is_empty() || nowpayments::key_header(key).is_err() {
                return Err(LiveConfigError::Key(name));
            }
        }
        for (name, timeout) in [("connect_timeout", config.connect_timeout), ("total_timeout", config.total_timeout)] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(LiveConfigError::Timeout(name));
            }
        }
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            // An API that redirects is misconfigured; following could turn a POST into a GET.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("stockroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(LiveConfigError::Client)?;
        let api = |provider: &'static str, base: &str| http::Api {
            provider,
            client: client.clone(),
            base: base.trim_end_matches('/').to_string(),
            total: config.total_timeout,
        };
        Ok(LiveGateway {
            nowpayments: nowpayments::NowPayments {
                api: api("NOWPayments", &config.nowpayments_api_url),
                key: config.nowpayments_api_key.clone(),
                ipn_callback_url: format!("{}/webhooks/nowpayments", config.public_url.trim_end_matches('/')),
                default_pay_currency: config.default_pay_currency.clone(),
            },
            stripe: stripe::Stripe {
                api: api("Stripe", &config.stripe_api_url),
                key: config.stripe_secret_key.clone(),
                success_url: config.success_url.clone(),
                cancel_url: config.cancel_url.clone(),
            },
        })
    }
}

#[async_trait]
impl PaymentGateway for LiveGateway {
    async fn create_invoice(&self, req: &InvoiceRequest) -> Result<Invoice, ProviderError> {
        match req.provider {
            ProviderKind::Nowpayments => self.nowpayments.create(req).await,
            ProviderKind::Stripe => self.stripe.create(req).await,
        }
    }

    async fn lookup(&self, provider: ProviderKind, payment_id: &str) -> Result<PaymentEvent, ProviderError> {
        match provider {
            ProviderKind::Nowpayments => self.nowpayments.lookup(payment_id).await,
            ProviderKind::Stripe => self.stripe.lookup(payment_id).await,
        }
    }

    async fn cancel(&self, provider: ProviderKind, payment_id: &str) -> Result<(), ProviderError> {
        match provider {
            // NOWPayments has no cancel call: an unpaid payment lapses.
            ProviderKind::Nowpayments => Ok(()),
            ProviderKind::Stripe => self.stripe.cancel(payment_id).await,
        }
    }

    async fn refund(
        &self,
        provider: ProviderKind,
        payment_id: &str,
        amount: &Money,
        key: &str,
    ) -> Result<RefundMade, ProviderError> {
        match provider {
            // NOWPayments has no refund API: staff send the coins back by hand.
            ProviderKind::Nowpayments => Ok(RefundMade::Manual),
            ProviderKind::Stripe => self.stripe.refund(payment_id, amount, key).await.map(RefundMade::Provider),
        }
    }
}
