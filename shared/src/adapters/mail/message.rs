//! A `Mail` as an RFC 5322 message (text and HTML alternatives), for the
//! SMTP and files adapters.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::ports::{Mail, MailError};

/// The sender, as `STOCKROOM_MAIL_FROM` gives it (`Name <addr>` or `addr`).
pub fn parse_from(from: &str) -> Result<Mailbox, String> {
    from.parse::<Mailbox>().map_err(|e| format!("'{from}' is not a mail address: {e}"))
}

/// A bad recipient address is permanent: sending again cannot fix it.
pub fn build(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let mut builder = Message::builder().from(from.clone());
    for to in &mail.to {
        let mailbox: Mailbox =
            to.parse().map_err(|e| MailError::Permanent(format!("'{to}' is not a mail address: {e}")))?;
        builder = builder.to(mailbox);
    }
    builder
        .subject(mail.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Permanent(format!("the mail cannot be built: {e}")))
}
