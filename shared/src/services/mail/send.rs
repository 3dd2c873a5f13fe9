//! The mail job: sends the due mails, one attempt each, and books how it
//! went. An attempt is claimed before the send (so two runs do not send
//! one mail twice); a run that dies mid-send leaves the mail due again
//! after `CLAIM_SECS`.

use std::time::Duration;

use serde::Serialize;

use super::super::store::mails::{self, MailRecord};
use super::super::tx::{Commit, Tx};
use super::super::{Ctx, ServiceError};
use crate::domain::Timestamp;
use crate::ports::{Mail, MailError};

/// The first attempt and one per delay of the merchant webhooks' schedule;
/// then the mail is failed.
pub use super::super::backoff::MAX_ATTEMPTS;
/// A claimed attempt not heard of again is retried after this.
const CLAIM_SECS: i64 = 300;
/// Longer than the SMTP adapter's own timeout: a backstop for any adapter.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// Sends per run at most, so one run stays well inside a Lambda's time.
const PER_RUN: u32 = 200;

/// What one run of the mail job did.
#[derive(Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MailReport {
    pub sent: u32,
    /// Failed this time, tried again later.
    pub retrying: u32,
    /// Refused for good, or failed their last attempt.
    pub failed: u32,
    /// Mails whose outcome could not be recorded (sent again later, at
    /// worst).
    pub errors: u32,
}

/// Sends every mail due now (at most `PER_RUN`). Fails only when the due
/// mails cannot be read; one mail's trouble is counted and the rest go on.
pub async fn send_due(ctx: &Ctx) -> Result<MailReport, ServiceError> {
    let mut report = MailReport::default();
    let mut started = 0;
    // Each attempt moves its mail out of the due range, so the first page
    // is read again until none is due.
    while started < PER_RUN {
        let now = ctx.clock.now();
        let Some(page) = mails::due(ctx, now, 50).next_page().await? else { break };
        let page: Vec<MailRecord> = page.into_iter().filter(|m| m.next_attempt_at.is_none_or(|t| t <= now)).collect();
        if page.is_empty() {
            break;
        }
        for rec in page {
            if started >= PER_RUN {
                break;
            }
            started += 1;
            match attempt(ctx, &rec).await {
                Ok(Some(Done::Sent)) => report.sent += 1,
                Ok(Some(Done::Retrying)) => report.retrying += 1,
                Ok(Some(Done::Failed)) => report.failed += 1,
                Ok(None) => {} // another run has it
                Err(e) => {
                    tracing::error!(mail_id = %rec.mail_id, error = ?e, "mail attempt not recorded");
                    report.errors += 1;
                }
            }
        }
    }
    Ok(report)
}

pub(super) enum Done {
    Sent,
    Retrying,
    Failed,
}

/// One attempt at one mail: claim, send, book. `None` when another run
/// claimed it first.
pub(super) async fn attempt(ctx: &Ctx, rec: &MailRecord) -> Result<Option<Done>, ServiceError> {
    let now = ctx.clock.now();
    let mut tx = Tx::new();
    tx.push((), mails::claim(rec, now, now.plus_secs(CLAIM_SECS))?);
    if let Commit::Refused(()) = tx.commit(ctx).await? {
        return Ok(None);
    }
    let attempts = rec.attempts + 1;
    let mail =
        Mail { to: vec![rec.to.clone()], subject: rec.subject.clone(), text: rec.text.clone(), html: rec.html.clone() };
    let sent = match tokio::time::timeout(SEND_TIMEOUT, ctx.mailer.send(&mail)).await {
        Ok(result) => result,
        Err(_) => Err(MailError::Transient(format!("no answer within {} s", SEND_TIMEOUT.as_secs()))),
    };
    let now = ctx.clock.now();
    let (done, write) = match &sent {
        Ok(()) => (Done::Sent, mails::settle(rec, attempts, now, Ok(()))?),
        Err(e) => {
            let text = e.to_string();
            let retry_at = retry_at(attempts, now).filter(|_| !e.is_permanent());
            let done = if retry_at.is_some() { Done::Retrying } else { Done::Failed };
            match done {
                Done::Failed => {
                    tracing::error!(mail_id = %rec.mail_id, attempts, error = %text, "mail failed for good")
                }
                _ => tracing::warn!(mail_id = %rec.mail_id, attempts, error = %text, "mail will be retried"),
            }
            (done, mails::settle(rec, attempts, now, Err((&text, retry_at)))?)
        }
    };
    let mut tx = Tx::new();
    tx.push((), write);
    match tx.commit(ctx).await? {
        Commit::Done => Ok(Some(done)),
        // Our claim was overtaken (a run after CLAIM_SECS); that run books it.
        Commit::Refused(()) => Ok(None),
    }
}

/// When to try again after failed attempt `attempts` (1-based), or `None`
/// when it was the last.
fn retry_at(attempts: u32, now: Timestamp) -> Option<Timestamp> {
    Some(now.plus_millis(super::super::backoff::delay_millis(attempts, None, rand::random::<f64>())?))
}
