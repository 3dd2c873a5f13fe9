//! SMTP with lettre on tokio: `smtp://host:port` (no TLS, for a local
//! catcher), `smtp://host?tls=required` (STARTTLS) or `smtps://host` (TLS),
//! with `user:password@` when the server wants a login.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::message::build;
use crate::ports::{Mail, MailError, Mailer};

/// A server that does not answer within this is a transient failure, so
/// one slow server cannot hold the mail job for long.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        // lettre's errors do not repeat the URL, which may hold a password.
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("SMTP URL: {e}"))?;
        Ok(SmtpMailer { transport: builder.timeout(Some(TIMEOUT)).build(), from: super::parse_from(from)? })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = build(&self.from, mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server refused for good (unknown mailbox, policy).
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
