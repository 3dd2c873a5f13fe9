//! Amazon SES (v2 SendEmail, simple content). The client is built on first
//! use from the environment (region, `AWS_ENDPOINT_URL`), so a function that
//! never sends mail never loads it.

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use tokio::sync::OnceCell;

use crate::ports::{Mail, MailError, Mailer};

pub struct SesMailer {
    client: OnceCell<Client>,
    from: String,
}

impl SesMailer {
    /// `from` must be an identity verified in SES (infra/README.md).
    pub fn new(from: &str) -> Self {
        SesMailer { client: OnceCell::new(), from: from.to_string() }
    }

    /// With a client already made (tests signing as a given IAM user).
    pub fn with_client(client: Client, from: &str) -> Self {
        SesMailer { client: OnceCell::new_with(Some(client)), from: from.to_string() }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .http_client(crate::adapters::aws::https_client())
                    .load()
                    .await;
                Client::new(&sdk)
            })
            .await
    }
}

fn content(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Permanent(format!("the mail cannot be built: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let body = Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build();
        let message = Message::builder().subject(content(&mail.subject)?).body(body).build();
        let sent = self
            .client()
            .await
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => Err(classify(e.err())),
            // Timeouts, dispatch and response failures: the call may work later.
            Err(e) => Err(MailError::Transient(format!("SES: {e}"))),
        }
    }
}

fn classify(e: &SendEmailError) -> MailError {
    let text = format!("SES: {e}");
    match e {
        SendEmailError::TooManyRequestsException(_)
        | SendEmailError::LimitExceededException(_)
        | SendEmailError::SendingPausedException(_) => MailError::Transient(text),
        SendEmailError::MessageRejected(_)
        | SendEmailError::MailFromDomainNotVerifiedException(_)
        | SendEmailError::BadRequestException(_)
        | SendEmailError::NotFoundException(_)
        | SendEmailError::AccountSuspendedException(_) => MailError::Permanent(text),
        _ => MailError::Transient(text),
    }
}
