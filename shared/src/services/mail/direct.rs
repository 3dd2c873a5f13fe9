//! Mail that is not an event's: a sign-in link. It is stored like every
//! mail (so the mail job retries it and staff see that it went, without its
//! body) but sent at once, in the request: the mail job may run only every
//! few minutes on AWS, longer than a link should wait. It never passes the
//! event log or a merchant webhook, so its link is seen by the mailbox only.

use serde_json::Value;

use super::super::store::mails::{self, MailRecord, MailStatus};
use super::super::tx::{Commit, Tx};
use super::super::{Ctx, ServiceError};
use super::render;
use crate::domain::Email;

/// Renders `template` for `data`, stores the mail under `id` (`kind` names
/// what caused it) and makes its first attempt now. A failed attempt is
/// left to the mail job's retries; only a mail that cannot be stored or
/// rendered is an error.
pub async fn send_now(
    ctx: &Ctx,
    id: &str,
    kind: &str,
    template: &str,
    to: &Email,
    data: &Value,
) -> Result<(), ServiceError> {
    let r = render(template, data, "buyer").map_err(|e| ServiceError::internal(anyhow::anyhow!(e)))?;
    let now = ctx.clock.now();
    let rec = MailRecord {
        mail_id: mails::mail_id(id, template, to.as_str()),
        event_id: id.to_string(),
        event_type: kind.to_string(),
        template: template.to_string(),
        to: to.as_str().to_string(),
        subject: r.subject,
        text: r.text,
        html: r.html,
        status: MailStatus::Pending,
        attempts: 0,
        created_at: now,
        next_attempt_at: Some(now),
        last_attempt_at: None,
        sent_at: None,
        last_error: None,
        secret: true,
    };
    let mut tx = Tx::new();
    tx.push((), mails::put_new(&rec)?);
    if let Commit::Refused(()) = tx.commit(ctx).await? {
        return Ok(()); // stored (and sent or being sent) before
    }
    if let Err(e) = super::send::attempt(ctx, &rec).await {
        // The record is pending: the mail job sends it.
        tracing::warn!(mail_id = %rec.mail_id, error = ?e, "sign-in mail not sent at once; the mail job retries");
    }
    Ok(())
}
