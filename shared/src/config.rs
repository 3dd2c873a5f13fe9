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

/// Everything a function or the local stack reads from the environment, in
/// sections. The AWS backend's names (table, bucket, queues, endpoint) are
/// `adapters::aws::AwsConfig`, read by the AWS wiring only.
#[derive(Clone, Debug)]
pub struct Config {
    pub backend: BackendConfig,
    pub server: ServerConfig,
    pub secrets: Secrets,
    pub limits: Limits,
    pub providers: Providers,
    pub jobs: Jobs,
    pub credits: Credits,
    pub webhooks: Webhooks,
    pub mail: MailConfig,
    /// Which file names under the stock prefixes are stock (a glob).
    pub stock_pattern: StockPattern,
    pub reorder: Reorder,
}

/// Stock analytics: days a restock takes to arrive, and files kept in
/// reserve (reorder point = velocity x lead time + safety stock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reorder {
    pub lead_time_days: u32,
    pub safety_stock: u32,
}

/// Which backend, and where the embedded one keeps its data.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    pub kind: Backend,
    pub data_dir: PathBuf,
}

/// Where the HTTP surface listens and the address callers see.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub port: u16,
    pub public_url: String,
}

#[derive(Clone, Debug)]
pub struct Secrets {
    pub jwt_secret: SecretString,
    /// Key that order tokens are derived from (the buyer's link to an order).
    pub order_token_key: SecretString,
    pub service_token: SecretString,
    /// Signs customer sessions (its own key: never the staff JWT secret).
    pub customer_jwt_secret: SecretString,
    pub nowpayments_ipn_secrets: Vec<SecretString>,
    pub stripe_webhook_secrets: Vec<SecretString>,
    /// Live payments: the providers' API keys.
    pub nowpayments_api_key: SecretString,
    pub stripe_secret_key: SecretString,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub hold_minutes: i64,
    /// Open (unpaid) orders per email.
    pub pending_per_email: u32,
    /// Open orders per client address; 0 = off (local: every caller is 127.0.0.1).
    pub pending_per_ip: u32,
    /// The longest a staff token may live (exp - iat), in hours.
    pub staff_token_max_hours: i64,
    /// How long a customer session lives, in hours.
    pub customer_session_hours: i64,
    /// How long a staff session (sign-in by link) lives, in hours; at most
    /// `staff_token_max_hours`.
    pub staff_session_hours: i64,
    /// Sign-in links one email may ask for per window.
    pub signin_per_email: u32,
    /// Sign-in links one client address may ask for per window.
    pub signin_per_ip: u32,
}

/// Sandbox or live payments, and the live providers' endpoints and where
/// Stripe Checkout sends the buyer back to.
#[derive(Clone, Debug)]
pub struct Providers {
    pub payments: Payments,
    pub nowpayments_api_url: String,
    pub stripe_api_url: String,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Clone, Debug)]
pub struct Jobs {
    pub fulfil_visibility_secs: u64,
    pub requeue_after_secs: i64,
    /// Local stack: seconds between runs of the scheduled jobs.
    pub jobs_every_secs: u64,
}

/// Loyalty credits: minor units of price per credit, and the hours an earned
/// credit stays pending.
#[derive(Clone, Debug)]
pub struct Credits {
    pub minor_per_credit: i64,
    pub hold_hours: i64,
}

/// Merchant webhooks.
#[derive(Clone, Debug)]
pub struct Webhooks {
    /// `STOCKROOM_WEBHOOKS_ALLOW_PRIVATE`: endpoints may be on loopback or
    /// private addresses, over plain http. On locally (the receiver is on
    /// this machine), off on Lambda (server-side request forgery).
    pub allow_private: bool,
}

/// How mail leaves: SMTP when `STOCKROOM_SMTP_URL` is set, else SES on
/// Lambda, else `.eml` files under `{data}/mail/`.
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// `STOCKROOM_MAIL_FROM`: `Name <address>` or an address.
    pub from: String,
    /// `STOCKROOM_STAFF_EMAIL`, comma-separated: who gets the staff mails.
    pub staff: Vec<String>,
    /// `STOCKROOM_ADMIN_EMAIL`: the first admin account, made at start.
    pub admin: Option<String>,
}

#[derive(Clone, Debug)]
pub enum MailTransport {
    /// The URL may hold a login, so it is a secret.
    Smtp(SecretString),
    Ses,
    Files,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

/// How long a staff token may live unless `STOCKROOM_STAFF_TOKEN_MAX_HOURS` says.
pub const STAFF_TOKEN_MAX_HOURS: i64 = 12;
/// No staff token lives longer than a day, whatever is configured.
pub const STAFF_TOKEN_CEILING_HOURS: i64 = 24;
/// How long a staff session lives unless `STOCKROOM_STAFF_SESSION_HOURS` says.
pub const STAFF_SESSION_HOURS: i64 = 8;
pub const LOCAL_JWT_SECRET: &str = "local-dev-jwt-secret-change-me";
pub const LOCAL_SERVICE_TOKEN: &str = "local-dev-service-token";
pub const LOCAL_ORDER_TOKEN_KEY: &str = "local-dev-order-token-key";
pub const LOCAL_CUSTOMER_JWT_SECRET: &str = "local-dev-customer-jwt-secret";
/// How long a customer session lives unless `STOCKROOM_CUSTOMER_SESSION_HOURS` says.
pub const CUSTOMER_SESSION_HOURS: i64 = 24;
pub const LOCAL_NOWPAYMENTS_IPN_SECRET: &str = "local-dev-ipn-secret";
pub const LOCAL_STRIPE_WEBHOOK_SECRET: &str = "whsec_local_dev_secret";
pub const LOCAL_MAIL_FROM: &str = "Stockroom <shop@localhost>";

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
        // Read in this order so that, of several bad variables, the same one is
        // named as before the fields were grouped.
        let data_dir = PathBuf::from(get("STOCKROOM_DATA").unwrap_or_else(|| ".stockroom".into()));
        // Back to the shop page, which resumes the order the tab left for.
        let success_url = get("STOCKROOM_SUCCESS_URL").unwrap_or_else(|| format!("{public_url}/shop#paid"));
        let cancel_url = get("STOCKROOM_CANCEL_URL").unwrap_or_else(|| format!("{public_url}/shop#cancelled"));
        let jwt_secret = secret("STOCKROOM_JWT_SECRET", LOCAL_JWT_SECRET)?;
        let staff_token_max_hours = positive(
            number(&get, "STOCKROOM_STAFF_TOKEN_MAX_HOURS", STAFF_TOKEN_MAX_HOURS)?,
            "STOCKROOM_STAFF_TOKEN_MAX_HOURS",
        )?;
        if staff_token_max_hours > STAFF_TOKEN_CEILING_HOURS {
            return Err(ConfigError {
                var: "STOCKROOM_STAFF_TOKEN_MAX_HOURS",
                problem: format!("must be at most {STAFF_TOKEN_CEILING_HOURS}: a leaked token must not outlive a day"),
            });
        }
        let staff_session_hours = positive(
            number(&get, "STOCKROOM_STAFF_SESSION_HOURS", STAFF_SESSION_HOURS.min(staff_token_max_hours))?,
            "STOCKROOM_STAFF_SESSION_HOURS",
        )?;
        if staff_session_hours > staff_token_max_hours {
            return Err(ConfigError {
                var: "STOCKROOM_STAFF_SESSION_HOURS",
                problem: format!("must be at most STOCKROOM_STAFF_TOKEN_MAX_HOURS ({staff_token_max_hours})"),
            });
        }
        let order_token_key = secret("STOCKROOM_ORDER_TOKEN_KEY", LOCAL_ORDER_TOKEN_KEY)?;
        let service_token = secret("STOCKROOM_SERVICE_TOKEN", LOCAL_SERVICE_TOKEN)?;
        let customer_jwt_secret = secret("STOCKROOM_CUSTOMER_JWT_SECRET", LOCAL_CUSTOMER_JWT_SECRET)?;
        {
            use secrecy::ExposeSecret;
            // One key for both would let a staff token be tried as a session.
            if customer_jwt_secret.expose_secret() == jwt_secret.expose_secret() {
                return Err(ConfigError {
                    var: "STOCKROOM_CUSTOMER_JWT_SECRET",
                    problem: "must differ from STOCKROOM_JWT_SECRET".into(),
                });
            }
        }
        let customer_session_hours = positive(
            number(&get, "STOCKROOM_CUSTOMER_SESSION_HOURS", CUSTOMER_SESSION_HOURS)?,
            "STOCKROOM_CUSTOMER_SESSION_HOURS",
        )?;
        let nowpayments_ipn_secrets = secrets("NOWPAYMENTS_IPN_SECRET", LOCAL_NOWPAYMENTS_IPN_SECRET)?;
        let stripe_webhook_secrets = secrets("STRIPE_WEBHOOK_SECRET", LOCAL_STRIPE_WEBHOOK_SECRET)?;
        let hold_minutes = positive(number(&get, "STOCKROOM_HOLD_MINUTES", 30)?, "STOCKROOM_HOLD_MINUTES")?;
        let jobs = Jobs {
            fulfil_visibility_secs: number(&get, "STOCKROOM_FULFIL_VISIBILITY_SECS", 30)?,
            requeue_after_secs: number(&get, "STOCKROOM_REQUEUE_AFTER_SECS", 120)?,
            jobs_every_secs: number(&get, "STOCKROOM_JOBS_EVERY_SECS", 30)?,
        };
        let limits = Limits {
            hold_minutes,
            pending_per_email: number(&get, "STOCKROOM_PENDING_PER_EMAIL", 2)?,
            pending_per_ip: number(&get, "STOCKROOM_PENDING_PER_IP", if place == Place::Local { 0 } else { 5 })?,
            staff_token_max_hours,
            customer_session_hours,
            staff_session_hours,
            signin_per_email: number(&get, "STOCKROOM_SIGNIN_PER_EMAIL", 5)?,
            signin_per_ip: number(&get, "STOCKROOM_SIGNIN_PER_IP", 30)?,
        };
        let credits = Credits {
            minor_per_credit: positive(
                number(&get, "STOCKROOM_CREDIT_MINOR_PER_CREDIT", 100)?,
                "STOCKROOM_CREDIT_MINOR_PER_CREDIT",
            )?,
            hold_hours: positive(number(&get, "STOCKROOM_CREDIT_HOLD_HOURS", 48)?, "STOCKROOM_CREDIT_HOLD_HOURS")?,
        };
        let stock_pattern = match get("STOCKROOM_STOCK_PATTERN") {
            None => StockPattern::default(),
            Some(p) => StockPattern::parse(&p)
                .map_err(|e| ConfigError { var: "STOCKROOM_STOCK_PATTERN", problem: e.reason })?,
        };
        let webhooks =
            Webhooks { allow_private: flag(&get, "STOCKROOM_WEBHOOKS_ALLOW_PRIVATE", place == Place::Local)? };
        let nowpayments_api_url = get("NOWPAYMENTS_API_URL").unwrap_or_else(|| "https://api.nowpayments.io".into());
        let nowpayments_api_key = secret("NOWPAYMENTS_API_KEY", "")?;
        let stripe_api_url = get("STRIPE_API_URL").unwrap_or_else(|| "https://api.stripe.com".into());
        let stripe_secret_key = secret("STRIPE_SECRET_KEY", "")?;
        let mail = mail(&get, place)?;
        let reorder = Reorder {
            lead_time_days: number(&get, "STOCKROOM_LEAD_TIME_DAYS", 7)?,
            safety_stock: number(&get, "STOCKROOM_SAFETY_STOCK", 10)?,
        };
        Ok(Config {
            backend: BackendConfig { kind: backend, data_dir },
            server: ServerConfig { port, public_url },
            secrets: Secrets {
                jwt_secret,
                order_token_key,
                service_token,
                customer_jwt_secret,
                nowpayments_ipn_secrets,
                stripe_webhook_secrets,
                nowpayments_api_key,
                stripe_secret_key,
            },
            limits,
            providers: Providers { payments, nowpayments_api_url, stripe_api_url, success_url, cancel_url },
            jobs,
            credits,
            webhooks,
            mail,
            stock_pattern,
            reorder,
        })
    }
}

fn mail(get: &impl Fn(&str) -> Option<String>, place: Place) -> Result<MailConfig, ConfigError> {
    let transport = match (get("STOCKROOM_SMTP_URL"), place) {
        (Some(url), _) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            MailTransport::Smtp(SecretString::from(url))
        }
        // Not echoed: the URL may hold a password.
        (Some(_), _) => {
            return Err(ConfigError {
                var: "STOCKROOM_SMTP_URL",
                problem: "must start with smtp:// or smtps://".into(),
            });
        }
        (None, Place::Lambda { .. }) => MailTransport::Ses,
        (None, Place::Local) => MailTransport::Files,
    };
    let from = get("STOCKROOM_MAIL_FROM").unwrap_or_else(|| LOCAL_MAIL_FROM.into());
    let mut staff = Vec::new();
    for part in get("STOCKROOM_STAFF_EMAIL").unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let email = crate::domain::Email::parse(part).map_err(|_| ConfigError {
            var: "STOCKROOM_STAFF_EMAIL",
            problem: format!("'{part}' is not an email address"),
        })?;
        staff.push(email.as_str().to_string());
    }
    let admin = match get("STOCKROOM_ADMIN_EMAIL") {
        None => None,
        Some(v) => Some(
            crate::domain::Email::parse(v.trim())
                .map_err(|_| ConfigError {
                    var: "STOCKROOM_ADMIN_EMAIL",
                    problem: format!("'{v}' is not an email address"),
                })?
                .as_str()
                .to_string(),
        ),
    };
    Ok(MailConfig { transport, from, staff, admin })
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

fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true") => Ok(true),
        Some("0" | "false") => Ok(false),
        Some(v) => Err(ConfigError { var, problem: format!("'{v}' is not 1, true, 0 or false") }),
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
        assert_eq!(
            (c.backend.kind, c.providers.payments, c.server.port, c.limits.hold_minutes),
            (Backend::Embedded, Payments::Sandbox, 3000, 30)
        );
        assert_eq!(c.secrets.jwt_secret.expose_secret(), LOCAL_JWT_SECRET);
    }

    #[test]
    fn lambda_requires_the_secrets_it_needs_and_names_them() {
        let needs = Place::Lambda { needs: &["STOCKROOM_JWT_SECRET"] };
        assert_eq!(cfg(needs, &[]).unwrap_err().var, "STOCKROOM_JWT_SECRET");
        let c = cfg(needs, &[("STOCKROOM_JWT_SECRET", "x")]).unwrap();
        assert_eq!((c.backend.kind, c.providers.payments), (Backend::Aws, Payments::Live));
        // Secrets it does not need are random: checks against them fail closed.
        let other = cfg(needs, &[("STOCKROOM_JWT_SECRET", "x")]).unwrap();
        assert_ne!(c.secrets.service_token.expose_secret(), other.secrets.service_token.expose_secret());
        assert_ne!(c.secrets.service_token.expose_secret(), LOCAL_SERVICE_TOKEN);
    }

    #[test]
    fn rotation_lists_and_bad_numbers() {
        let c = cfg(Place::Local, &[("STRIPE_WEBHOOK_SECRET", "whsec_new, whsec_old")]).unwrap();
        assert_eq!(c.secrets.stripe_webhook_secrets.len(), 2);
        assert_eq!(cfg(Place::Local, &[("PORT", "http")]).unwrap_err().var, "PORT");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_HOLD_MINUTES", "0")]).unwrap_err().var, "STOCKROOM_HOLD_MINUTES");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_BACKEND", "mysql")]).unwrap_err().var, "STOCKROOM_BACKEND");
        let yes = [("STOCKROOM_WEBHOOKS_ALLOW_PRIVATE", "yes")];
        assert_eq!(cfg(Place::Local, &yes).unwrap_err().var, "STOCKROOM_WEBHOOKS_ALLOW_PRIVATE");
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
    fn every_variable_lands_in_its_section() {
        let vars = [
            ("STOCKROOM_BACKEND", "aws"),
            ("STOCKROOM_PAYMENTS", "live"),
            ("STOCKROOM_DATA", "/var/stockroom"),
            ("PORT", "8123"),
            ("STOCKROOM_PUBLIC_URL", "https://shop.example"),
            ("STOCKROOM_SUCCESS_URL", "https://shop.example/ok"),
            ("STOCKROOM_CANCEL_URL", "https://shop.example/no"),
            ("STOCKROOM_JWT_SECRET", "jwt"),
            ("STOCKROOM_STAFF_TOKEN_MAX_HOURS", "7"),
            ("STOCKROOM_STAFF_SESSION_HOURS", "6"),
            ("STOCKROOM_ADMIN_EMAIL", "boss@shop.example"),
            ("STOCKROOM_ORDER_TOKEN_KEY", "order-key"),
            ("STOCKROOM_SERVICE_TOKEN", "service"),
            ("STOCKROOM_CUSTOMER_JWT_SECRET", "customer"),
            ("STOCKROOM_CUSTOMER_SESSION_HOURS", "19"),
            ("STOCKROOM_SIGNIN_PER_EMAIL", "20"),
            ("STOCKROOM_SIGNIN_PER_IP", "21"),
            ("NOWPAYMENTS_IPN_SECRET", "ipn-new,ipn-old"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("STOCKROOM_HOLD_MINUTES", "11"),
            ("STOCKROOM_FULFIL_VISIBILITY_SECS", "12"),
            ("STOCKROOM_REQUEUE_AFTER_SECS", "13"),
            ("STOCKROOM_JOBS_EVERY_SECS", "14"),
            ("STOCKROOM_PENDING_PER_EMAIL", "15"),
            ("STOCKROOM_PENDING_PER_IP", "16"),
            ("STOCKROOM_CREDIT_MINOR_PER_CREDIT", "17"),
            ("STOCKROOM_CREDIT_HOLD_HOURS", "18"),
            ("STOCKROOM_STOCK_PATTERN", "acct-*.json"),
            ("STOCKROOM_WEBHOOKS_ALLOW_PRIVATE", "false"),
            ("NOWPAYMENTS_API_URL", "http://np.test"),
            ("NOWPAYMENTS_API_KEY", "np-key"),
            ("STRIPE_API_URL", "http://stripe.test"),
            ("STRIPE_SECRET_KEY", "sk_test_1"),
        ];
        let c = cfg(Place::Local, &vars).unwrap();
        let shown = |s: &SecretString| s.expose_secret().to_string();
        let all = |v: &[SecretString]| v.iter().map(shown).collect::<Vec<_>>().join(",");
        let got = [
            ("STOCKROOM_BACKEND", format!("{:?}", c.backend.kind)),
            ("STOCKROOM_PAYMENTS", format!("{:?}", c.providers.payments)),
            ("STOCKROOM_DATA", c.backend.data_dir.display().to_string()),
            ("PORT", c.server.port.to_string()),
            ("STOCKROOM_PUBLIC_URL", c.server.public_url.clone()),
            ("STOCKROOM_SUCCESS_URL", c.providers.success_url.clone()),
            ("STOCKROOM_CANCEL_URL", c.providers.cancel_url.clone()),
            ("STOCKROOM_JWT_SECRET", shown(&c.secrets.jwt_secret)),
            ("STOCKROOM_STAFF_TOKEN_MAX_HOURS", c.limits.staff_token_max_hours.to_string()),
            ("STOCKROOM_STAFF_SESSION_HOURS", c.limits.staff_session_hours.to_string()),
            ("STOCKROOM_ADMIN_EMAIL", c.mail.admin.clone().unwrap_or_default()),
            ("STOCKROOM_ORDER_TOKEN_KEY", shown(&c.secrets.order_token_key)),
            ("STOCKROOM_SERVICE_TOKEN", shown(&c.secrets.service_token)),
            ("STOCKROOM_CUSTOMER_JWT_SECRET", shown(&c.secrets.customer_jwt_secret)),
            ("STOCKROOM_CUSTOMER_SESSION_HOURS", c.limits.customer_session_hours.to_string()),
            ("STOCKROOM_SIGNIN_PER_EMAIL", c.limits.signin_per_email.to_string()),
            ("STOCKROOM_SIGNIN_PER_IP", c.limits.signin_per_ip.to_string()),
            ("NOWPAYMENTS_IPN_SECRET", all(&c.secrets.nowpayments_ipn_secrets)),
            ("STRIPE_WEBHOOK_SECRET", all(&c.secrets.stripe_webhook_secrets)),
            ("STOCKROOM_HOLD_MINUTES", c.limits.hold_minutes.to_string()),
            ("STOCKROOM_FULFIL_VISIBILITY_SECS", c.jobs.fulfil_visibility_secs.to_string()),
            ("STOCKROOM_REQUEUE_AFTER_SECS", c.jobs.requeue_after_secs.to_string()),
            ("STOCKROOM_JOBS_EVERY_SECS", c.jobs.jobs_every_secs.to_string()),
            ("STOCKROOM_PENDING_PER_EMAIL", c.limits.pending_per_email.to_string()),
            ("STOCKROOM_PENDING_PER_IP", c.limits.pending_per_ip.to_string()),
            ("STOCKROOM_CREDIT_MINOR_PER_CREDIT", c.credits.minor_per_credit.to_string()),
            ("STOCKROOM_CREDIT_HOLD_HOURS", c.credits.hold_hours.to_string()),
            ("STOCKROOM_STOCK_PATTERN", c.stock_pattern.as_str().to_string()),
            ("STOCKROOM_WEBHOOKS_ALLOW_PRIVATE", c.webhooks.allow_private.to_string()),
            ("NOWPAYMENTS_API_URL", c.providers.nowpayments_api_url.clone()),
            ("NOWPAYMENTS_API_KEY", shown(&c.secrets.nowpayments_api_key)),
            ("STRIPE_API_URL", c.providers.stripe_api_url.clone()),
            ("STRIPE_SECRET_KEY", shown(&c.secrets.stripe_secret_key)),
        ];
        let want: Vec<(&str, String)> = vars
            .iter()
            .map(|(k, v)| match *k {
                "STOCKROOM_BACKEND" => (*k, "Aws".to_string()),
                "STOCKROOM_PAYMENTS" => (*k, "Live".to_string()),
                _ => (*k, v.to_string()),
            })
            .collect();
        assert_eq!(got.to_vec(), want);
    }

    #[test]
    fn defaults_by_place_are_unchanged() {
        let l = cfg(Place::Local, &[]).unwrap();
        assert_eq!(l.backend.data_dir, PathBuf::from(".stockroom"));
        assert_eq!(l.server.public_url, "http://127.0.0.1:3000");
        assert_eq!(
            (l.providers.success_url.as_str(), l.providers.cancel_url.as_str()),
            ("http://127.0.0.1:3000/shop#paid", "http://127.0.0.1:3000/shop#cancelled")
        );
        assert_eq!(l.providers.nowpayments_api_url, "https://api.nowpayments.io");
        assert_eq!(l.providers.stripe_api_url, "https://api.stripe.com");
        assert_eq!((l.limits.pending_per_email, l.limits.pending_per_ip, l.limits.staff_token_max_hours), (2, 0, 12));
        assert_eq!((l.jobs.fulfil_visibility_secs, l.jobs.requeue_after_secs, l.jobs.jobs_every_secs), (30, 120, 30));
        assert_eq!((l.credits.minor_per_credit, l.credits.hold_hours), (100, 48));
        assert_eq!(l.secrets.order_token_key.expose_secret(), LOCAL_ORDER_TOKEN_KEY);
        assert_eq!(l.secrets.customer_jwt_secret.expose_secret(), LOCAL_CUSTOMER_JWT_SECRET);
        assert_eq!((l.limits.customer_session_hours, l.limits.signin_per_email, l.limits.signin_per_ip), (24, 5, 30));
        let same = [("STOCKROOM_JWT_SECRET", "k"), ("STOCKROOM_CUSTOMER_JWT_SECRET", "k")];
        assert_eq!(cfg(Place::Local, &same).unwrap_err().var, "STOCKROOM_CUSTOMER_JWT_SECRET");
        assert_eq!(l.secrets.nowpayments_ipn_secrets[0].expose_secret(), LOCAL_NOWPAYMENTS_IPN_SECRET);
        assert_eq!(l.secrets.stripe_webhook_secrets[0].expose_secret(), LOCAL_STRIPE_WEBHOOK_SECRET);
        assert_eq!(l.secrets.stripe_secret_key.expose_secret(), "");
        assert!(l.webhooks.allow_private);
        let lambda = cfg(Place::Lambda { needs: &[] }, &[]).unwrap();
        assert_eq!(lambda.limits.pending_per_ip, 5);
        assert!(!lambda.webhooks.allow_private);
        // PORT moves the default public URL and the return URLs with it.
        let p = cfg(Place::Local, &[("PORT", "4000")]).unwrap();
        assert_eq!(p.providers.success_url, "http://127.0.0.1:4000/shop#paid");
    }

    #[test]
    fn the_first_bad_variable_named_is_the_same_as_before_grouping() {
        let needs = Place::Lambda { needs: &["STOCKROOM_ORDER_TOKEN_KEY", "STRIPE_SECRET_KEY"] };
        let bad_hours = [("STOCKROOM_STAFF_TOKEN_MAX_HOURS", "0")];
        assert_eq!(cfg(needs, &bad_hours).unwrap_err().var, "STOCKROOM_STAFF_TOKEN_MAX_HOURS");
        let over_a_day = [("STOCKROOM_STAFF_TOKEN_MAX_HOURS", "25")];
        assert_eq!(cfg(needs, &over_a_day).unwrap_err().var, "STOCKROOM_STAFF_TOKEN_MAX_HOURS");
        let session_over_max = [("STOCKROOM_STAFF_TOKEN_MAX_HOURS", "4"), ("STOCKROOM_STAFF_SESSION_HOURS", "5")];
        assert_eq!(cfg(needs, &session_over_max).unwrap_err().var, "STOCKROOM_STAFF_SESSION_HOURS");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_ADMIN_EMAIL", "nobody")]).unwrap_err().var, "STOCKROOM_ADMIN_EMAIL");
        let bad_jobs = [("STOCKROOM_ORDER_TOKEN_KEY", "k"), ("STOCKROOM_JOBS_EVERY_SECS", "x")];
        assert_eq!(cfg(needs, &bad_jobs).unwrap_err().var, "STOCKROOM_JOBS_EVERY_SECS");
    }

    #[test]
    fn mail_goes_by_smtp_url_then_ses_on_lambda_then_files() {
        let url = [("STOCKROOM_SMTP_URL", "smtp://u:pw@127.0.0.1:2525")];
        assert!(matches!(cfg(Place::Local, &url).unwrap().mail.transport, MailTransport::Smtp(_)));
        let lambda = Place::Lambda { needs: &[] };
        assert!(matches!(cfg(lambda, &url).unwrap().mail.transport, MailTransport::Smtp(_)));
        assert!(matches!(cfg(lambda, &[]).unwrap().mail.transport, MailTransport::Ses));
        let local = cfg(Place::Local, &[]).unwrap();
        assert!(matches!(local.mail.transport, MailTransport::Files));
        assert_eq!((local.mail.from.as_str(), local.mail.staff.len()), (LOCAL_MAIL_FROM, 0));
        assert!(!format!("{:?}", cfg(Place::Local, &url).unwrap()).contains("pw"), "the URL is a secret");

        let staff = [
            ("STOCKROOM_STAFF_EMAIL", " Ops@Example.com, stock@example.com ,"),
            ("STOCKROOM_MAIL_FROM", "Shop <s@example.com>"),
        ];
        let c = cfg(Place::Local, &staff).unwrap();
        assert_eq!(c.mail.staff, ["ops@example.com", "stock@example.com"]);
        assert_eq!(c.mail.from, "Shop <s@example.com>");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_STAFF_EMAIL", "nobody")]).unwrap_err().var, "STOCKROOM_STAFF_EMAIL");
        assert_eq!(cfg(Place::Local, &[("STOCKROOM_SMTP_URL", "http://x")]).unwrap_err().var, "STOCKROOM_SMTP_URL");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = cfg(Place::Local, &[("STOCKROOM_JWT_SECRET", "s3cr3t-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
