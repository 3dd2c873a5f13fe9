//! Wiring: config + ports -> the services' context and the HTTP state. Every
//! entry point (local stack, each Lambda function) builds its state here.

use std::sync::Arc;

use anyhow::Context;

use secrecy::ExposeSecret;

use crate::adapters::live::{LiveConfig, LiveGateway};
use crate::adapters::mail::{FilesMailer, SmtpMailer};
use crate::adapters::outbound::HttpSender;
use crate::adapters::sandbox::SandboxGateway;
use crate::config::{Config, MailTransport, Payments};
use crate::http::sandbox::SandboxKeys;
use crate::http::{AppState, WebhookKeys, auth::AuthKeys};
use crate::ports::clock::{OffsetClock, SystemClock, UlidGen};
use crate::ports::{Clock, Files, Mailer, NullMailer, PaymentGateway, Queue, Records};
use crate::providers::{NowPaymentsVerifier, StripeVerifier};
use crate::services::{Ctx, Settings};

/// The storage side of a backend (embedded or AWS).
#[derive(Clone)]
pub struct Ports {
    pub records: Arc<dyn Records>,
    pub files: Arc<dyn Files>,
    pub fulfil_queue: Arc<dyn Queue>,
    pub events: Arc<dyn Queue>,
}

/// The payment gateway the config asks for: the sandbox, or the real
/// providers' APIs.
pub fn gateway(cfg: &Config) -> anyhow::Result<Arc<dyn PaymentGateway>> {
    Ok(match cfg.providers.payments {
        Payments::Sandbox => Arc::new(SandboxGateway { public_url: cfg.server.public_url.clone() }),
        Payments::Live => {
            let mut live = LiveConfig::new(
                cfg.secrets.nowpayments_api_key.clone(),
                cfg.secrets.stripe_secret_key.clone(),
                cfg.server.public_url.clone(),
                cfg.providers.success_url.clone(),
                cfg.providers.cancel_url.clone(),
            );
            live.nowpayments_api_url = cfg.providers.nowpayments_api_url.clone();
            live.stripe_api_url = cfg.providers.stripe_api_url.clone();
            Arc::new(LiveGateway::new(live).context("live payment gateway")?)
        }
    })
}

/// The mailer the config asks for: SMTP, SES (Lambda) or `.eml` files
/// under `{data}/mail/`. A bad SMTP URL or sender falls back to the files,
/// loudly, so mail is kept rather than lost.
pub fn mailer(cfg: &Config) -> Arc<dyn Mailer> {
    let from = &cfg.mail.from;
    let dir = cfg.backend.data_dir.join("mail");
    let chosen: Result<Arc<dyn Mailer>, String> = match &cfg.mail.transport {
        MailTransport::Smtp(url) => SmtpMailer::new(url.expose_secret(), from).map(|m| Arc::new(m) as _),
        #[cfg(feature = "aws")]
        MailTransport::Ses => Ok(Arc::new(crate::adapters::mail::SesMailer::new(from))),
        #[cfg(not(feature = "aws"))]
        MailTransport::Ses => Err("SES needs the aws feature".into()),
        MailTransport::Files => FilesMailer::new(&dir, from).map(|m| Arc::new(m) as _),
    };
    chosen.unwrap_or_else(|problem| {
        tracing::error!(%problem, dir = %dir.display(), "mail transport not usable; writing mails as files");
        match FilesMailer::new(&dir, from).or_else(|_| FilesMailer::new(&dir, crate::config::LOCAL_MAIL_FROM)) {
            Ok(m) => Arc::new(m),
            Err(_) => Arc::new(NullMailer),
        }
    })
}

/// The clock every part of one process shares. Locally it can be moved
/// forward through `/sandbox/clock`.
pub fn clock() -> Arc<OffsetClock> {
    Arc::new(OffsetClock::default())
}

pub fn settings(cfg: &Config) -> Settings {
    Settings {
        hold_millis: cfg.limits.hold_minutes * 60_000,
        // Its own key: the checkout function has it, never the staff JWT secret.
        token_key: cfg.secrets.order_token_key.clone(),
        requeue_after_millis: cfg.jobs.requeue_after_secs * 1000,
        pending_per_email: cfg.limits.pending_per_email.max(1),
        pending_per_ip: cfg.limits.pending_per_ip,
        credits: crate::domain::CreditRules {
            minor_per_credit: cfg.credits.minor_per_credit,
            hold_millis: cfg.credits.hold_hours * 3_600_000,
        },
        stock_pattern: cfg.stock_pattern.clone(),
        staff_email: cfg.mail.staff.clone(),
        public_url: cfg.server.public_url.trim_end_matches('/').to_string(),
        reorder: cfg.reorder,
        session_key: cfg.secrets.customer_jwt_secret.clone(),
        session_millis: cfg.limits.customer_session_hours * 3_600_000,
        signin_per_email: cfg.limits.signin_per_email,
        signin_per_ip: cfg.limits.signin_per_ip,
        admin_email: cfg.mail.admin.clone(),
    }
}

pub fn state(cfg: &Config, ports: Ports, gateway: Arc<dyn PaymentGateway>, clock: Arc<OffsetClock>) -> AppState {
    let shared_clock: Arc<dyn Clock> = clock.clone();
    let mut ctx = Ctx::new(
        ports.records,
        ports.files,
        ports.fulfil_queue,
        ports.events,
        gateway,
        shared_clock,
        Arc::new(UlidGen),
        settings(cfg),
    );
    ctx.webhook_sender = Arc::new(HttpSender::new(cfg.webhooks.allow_private));
    ctx.mailer = mailer(cfg);
    let webhooks = WebhookKeys {
        nowpayments: NowPaymentsVerifier::new(cfg.secrets.nowpayments_ipn_secrets.clone()),
        stripe: StripeVerifier::new(cfg.secrets.stripe_webhook_secrets.clone()),
        signed_at: Arc::new(SystemClock),
    };
    let sandbox = (cfg.providers.payments == Payments::Sandbox).then(|| {
        Arc::new(SandboxKeys {
            nowpayments_secret: cfg.secrets.nowpayments_ipn_secrets[0].clone(),
            stripe_secret: cfg.secrets.stripe_webhook_secrets[0].clone(),
            clock,
        })
    });
    AppState {
        ctx: Arc::new(ctx),
        auth: AuthKeys {
            jwt_secret: cfg.secrets.jwt_secret.clone(),
            service_token: cfg.secrets.service_token.clone(),
            max_token_secs: cfg.limits.staff_token_max_hours.saturating_mul(3600),
            session_secs: cfg.limits.staff_session_hours.saturating_mul(3600),
        },
        webhooks: Arc::new(webhooks),
        sandbox,
        sessions: Arc::default(),
    }
}
