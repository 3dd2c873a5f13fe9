//! Typed configuration, read once from the environment, failing fast with a
//! message that names the variable. Secrets are `SecretString`: never printed.

use std::path::PathBuf;

use secrecy::SecretString;

use crate::domain::StockPattern;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payments {
    /// Invoices are made up locally; `/sandbox/pay` posts signed webhooks.
    Sandbox,
    /// Real NOWPayments and Stripe APIs.
    Live,
}

/// Where the code runs decides the defaults: locally every secret has a
/// documented default. On Lambda each function names the secrets it uses: a
/// missing one is an error, and any other gets a random value, so a check
/// that function should never make fails closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Local,
    Lambda { needs: &'static [&'static str] },
}

#[derive(Clone, Debug)]
pub struct Config {
    pub backend: Backend,
    pub payments: Payments,
    pub data_dir: PathBuf,
    pub port: u16,
    pub public_url: String,
    pub jwt_secret: SecretString,
    /// The longest a staff token may live (exp - iat), in hours.
    pub staff_token_max_hours: i64,
    /// Key that order tokens are derived from (the buyer's link to an order).
    pub order_token_key: SecretString,
    pub service_token: SecretString,
    pub nowpayments_ipn_secrets: Vec<SecretString>,
    pub stripe_webhook_secrets: Vec<SecretString>,
    pub hold_minutes: i64,
    pub fulfil_visibility_secs: u64,
    pub requeue_after_secs: i64,
    /// Local stack: seconds between runs of the scheduled jobs.
    pub jobs_every_secs: u64,
    /// Open (unpaid) orders per email.
    pub pending_per_email: u32,
    /// Open orders per client address; 0 = off (local: every caller is 127.0.0.1).
    pub pending_per_ip: u32,
    /// Loyalty credits: minor units of price per credit, and the hours an
    /// earned credit stays pending.
    pub credit_minor_per_credit: i64,
    pub credit_hold_hours: i64,
    /// Which file names under the stock prefixes are stock (a glob).
    pub stock_pattern: StockPattern,
    /// Live payments: provider API endpoints and keys, and where Stripe
    /// Checkout sends the buyer back to.
    pub nowpayments_api_url: String,
    pub nowpayments_api_key: SecretString,
    pub stripe_api_url: String,
    pub stripe_secret_key: SecretString,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

/// How long a staff token may live unless `STOCKROOM_STAFF_TOKEN_MAX_HOURS` says.
pub const STAFF_TOKEN_MAX_HOURS: i64 = 12;
pub const LOCAL_JWT_SECRET: &str = "local-dev-jwt-secret-change-me";
pub const LOCAL_SERVICE_TOKEN: &str = "local-dev-service-token";
pub const LOCAL_ORDER_TOKEN_KEY: &str = "local-dev-order-token-key";
pub const LOCAL_NOWPAYMENTS_IPN_SECRET: &str = "local-dev-ipn-secret";
pub const LOCAL_STRIPE_WEBHOOK_SECRET: &str = "whsec_local_dev_secret";

impl Config {
    pub fn from_env(place: Place) -> Result<Self, ConfigError> {
        Config::from_lookup(place, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(place: Place, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw_secret = |var: &'static str, local: &str| -> Result<String, ConfigError> {
            match (get(var), place) {
                (Some(v), _) => Ok(v),
                (None, Place::Local) => Ok(local.to_string()),
                (None, Place::Lambda { needs }) if needs.contains(&var) => {
                    Err(ConfigError { var, problem: "is required".into() })
                }
                (None, Place::Lambda { .. }) => Ok(unguessable()),
            }
        };
        let secret = |var: &'static str, local: &str| raw_secret(var, local).map(SecretString::from);
        // Comma-separated: the new secret and the old one during rotation.
        let secrets = |var: &'static str, local: &str| -> Result<Vec<SecretString>, ConfigError> {
            let all = raw_secret(var, local)?;
            let list: Vec<SecretString> = all
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_string()))
                .collect();
            if list.is_empty() { Err(ConfigError { var, problem: "has no secret in it".into() }) } else { Ok(list) }
        };
        let backend = match get("STOCKROOM_BACKEND").as_deref() {
            None if place != Place::Local => Backend::Aws,
            None | Some("embedded") => Backend::Embedded,
            Some("aws") => Backend::Aws,
            Some(other) => {
                return Err(ConfigError {
                    var: "STOCKROOM_BACKEND",
                    problem: format!("'{other}' is not embedded or aws"),
                });
            }
        };
        let payments = match get("STOCKROOM_PAYMENTS").as_deref() {
            None if place != Place::Local => Payments::Live,
            None | Some("sandbox") => Payments::Sandbox,
            Some("live") => Payments::Live,
            Some(other) => {
                return Err(ConfigError {
                    var: "STOCKROOM_PAYMENTS",
                    problem: format!("'{other}' is not sandbox or live"),
                });
            }
        };
        let port: u16 = number(&get, "PORT", 3000)?;
        let public_url = get("STOCKROOM_PUBLIC_URL").unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
        Ok(Config {
            backend,
            payments,
            data_dir: PathBuf::from(get("STOCKROOM_DATA").unwrap_or_else(|| ".stockroom".into())),
            port,
            success_url: get("STOCKROOM_SUCCESS_URL").unwrap_or_else(|| format!("{public_url}/paid")),
            cancel_url: get("STOCKROOM_CANCEL_URL").unwrap_or_else(|| format!("{public_url}/cancelled")),
            public_url,
            jwt_secret: secret("STOCKROOM_JWT_SECRET", LOCAL_JWT_SECRET)?,
            staff_token_max_hours: positive(
                number(&get, "STOCKROOM_STAFF_TOKEN_MAX_HOURS", STAFF_TOKEN_MAX_HOURS)?,
                "STOCKROOM_STAFF_TOKEN_MAX_HOURS",
            )?,
            order_token_key: secret("STOCKROOM_ORDER_TOKEN_KEY", LOCAL_ORDER_TOKEN_KEY)?,
            service_token: secret("STOCKROOM_SERVICE_TOKEN", LOCAL_SERVICE_TOKEN)?,
            nowpayments_ipn_secrets: secrets("NOWPAYMENTS_IPN_SECRET", LOCAL_NOWPAYMENTS_IPN_SECRET)?,
            stripe_webhook_secrets: secrets("STRIPE_WEBHOOK_SECRET", LOCAL_STRIPE_WEBHOOK_SECRET)?,
            hold_minutes: positive(number(&get, "STOCKROOM_HOLD_MINUTES", 30)?, "STOCKROOM_HOLD_MINUTES")?,
            fulfil_visibility_secs: number(&get, "STOCKROOM_FULFIL_VISIBILITY_SECS", 30)?,
            requeue_after_secs: number(&get, "STOCKROOM_REQUEUE_AFTER_SECS", 120)?,
            jobs_every_secs: number(&get, "STOCKROOM_JOBS_EVERY_SECS", 30)?,
            pending_per_email: number(&get, "STOCKROOM_PENDING_PER_EMAIL", 2)?,
            pending_per_ip: number(&get, "STOCKROOM_PENDING_PER_IP", if place == Place::Local { 0 } else { 5 })?,
            credit_minor_per_credit: positive(
                number(&get, "STOCKROOM_CREDIT_MINOR_PER_CREDIT", 100)?,
                "STOCKROOM_CREDIT_MINOR_PER_CREDIT",
            )?,
            credit_hold_hours: positive(
                number(&get, "STOCKROOM_CREDIT_HOLD_HOURS", 48)?,
                "STOCKROOM_CREDIT_HOLD_HOURS",
            )?,
            stock_pattern: match get("STOCKROOM_STOCK_PATTERN") {
                None => StockPattern::default(),
                Some(p) => StockPattern::parse(&p)
                    .map_err(|e| ConfigError { var: "STOCKROOM_STOCK_PATTERN", problem: e.reason })?,
            },
            nowpayments_api_url: get("NOWPAYMENTS_API_URL").unwrap_or_else(|| "https://api.nowpayments.io".into()),
            nowpayments_api_key: secret("NOWPAYMENTS_API_KEY", "")?,
            stripe_api_url: get("STRIPE_API_URL").unwrap_or_else(|| "https://api.stripe.com".into()),
            stripe_secret_key: secret("STRIPE_SECRET_KEY", "")?,
        })
    }
}

/// A secret nobody knows, for checks a function must never pass.
fn unguessable() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError { var, problem: format!("'{v}' is not a valid number") }),
    }
}

fn positive(v: i64, var: &'static str) -> Result<i64, ConfigError> {
    if v > 0 { Ok(v) } else { Err(ConfigError { var, problem: "must be positive".into() }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn cfg(place: Place, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(place, |k| m.get(k).cloned())
    }

    #[test]
    fn local_has_documented_defaults() {
        let c = cfg(Place::Local, &[]).unwrap();
        assert_eq!((c.backend, c.payments, c.port, c.hold_minutes), (Backend::Embedded, Payments::Sandbox, 3000, 30));
        assert_eq!(c.jwt_secret.expose_secret(), LOCAL_JWT_SECRET);
    }

    #[test]
    fn lambda_requires_the_secrets_it_needs_and_names_them() {
        let needs = Place::Lambda { needs: &["STOCKROOM_JWT_SECRET"] };
        assert_eq!(cfg(needs, &[]).unwrap_err().var, "STOCKROOM_JWT_SECRET");
        let c = cfg(needs, &[("STOCKROOM_JWT_SECRET", "x")]).unwrap();
        assert_eq!((c.backend, c.payments), (Backend::Aws, Payments::Live));
        // Secrets it does not need are random: checks against them fail closed.
        let other = cfg(needs, &[("STOCKROOM_JWT_SECRET", "x")]).unwrap();
        assert_ne!(c.service_token.expose_secret(), other.service_token.expose_secret());
        assert_ne!(c.service_token.expose_secret(), LOCAL_SERVICE_TOKEN);
    }

    #[test]
    fn rotation_lists_and_bad_numbers() {
        let c = cfg(Place::Local, &[("STRIPE_WEBHOOK_SECRET", "whsec_new, whsec_old")]).unwrap();
        assert_eq!(c.stripe_webhook_secrets.len(), 2);
        assert_eq!(cfg(Place::Local, &[("PORT", "http")]).unwrap_err().var, "PORT");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_HOLD_MINUTES", "0")]).unwrap_err().var, "STOCKROOM_HOLD_MINUTES");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_BACKEND", "mysql")]).unwrap_err().var, "STOCKROOM_BACKEND");
        assert_eq!(
            cfg(Place::Local, &[("STOCKROOM_STOCK_PATTERN", "a/*")]).unwrap_err().var,
            "STOCKROOM_STOCK_PATTERN"
        );
    }

    #[test]
    fn stock_pattern_defaults_to_session_files() {
        assert_eq!(cfg(Place::Local, &[]).unwrap().stock_pattern.as_str(), "*.session");
        let c = cfg(Place::Local, &[("STOCKROOM_STOCK_PATTERN", "acct-*.json")]).unwrap();
        assert!(c.stock_pattern.matches("acct-1.json"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = cfg(Place::Local, &[("STOCKROOM_JWT_SECRET", "s3cr3t-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
