//! Outgoing mail: one message to one or more addresses. The sender (From)
//! is the adapter's, from `STOCKROOM_MAIL_FROM`.

use async_trait::async_trait;

/// A rendered mail, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Trying again cannot help: a malformed or refused address, a 5xx
    /// answer, a sender the provider does not accept.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The server or network failed this time (4xx, timeout, refused
    /// connection, throttling); try again later.
    #[error("transient: {0}")]
    Transient(String),
}

impl MailError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Permanent(_))
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Sends nothing and says so in the log: the default of a context that
/// was not given a real mailer (tests, tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullMailer;

#[async_trait]
impl Mailer for NullMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::info!(to = ?mail.to, subject = %mail.subject, "mail not sent: no mailer configured");
        Ok(())
    }
}
