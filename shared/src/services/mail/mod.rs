//! Mail to buyers and staff, from the events. `fan_out` turns one event into
//! its outgoing-mail records (rendered, once per event, template and
//! recipient); `send_due` sends the due ones through the mail port and
//! retries failures with growing delays. Each mail is its own record, so a
//! bounce or a refused address holds up no other mail.

mod direct;
mod render;
mod rules;
mod send;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use direct::send_now;
pub use render::{Rendered, TEMPLATES, render};
pub use rules::{DIRECT, RULES, Rule, To};
pub use send::{MAX_ATTEMPTS, MailReport, send_due};

use super::events::Envelope;
use super::store::mails::{self, MailRecord, MailStatus};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{Email, Timestamp};

/// Stores the mails `event` causes, each once however often this runs for
/// the event. Returns how many were new. A mail that cannot be rendered
/// (the event lacks a field its template prints) is stored as failed, with
/// the reason, so it shows instead of stopping the event's delivery.
pub async fn fan_out(ctx: &Ctx, event: &Envelope) -> Result<u32, ServiceError> {
    let now = ctx.clock.now();
    let mut made = 0;
    for rule in rules::for_event(&event.kind) {
        let recipients = recipients(ctx, rule.to, event);
        if recipients.is_empty() {
            continue;
        }
        let rendered = render(rule.template, &event.data, rule.to.as_str());
        for to in recipients {
            let rec = record(event, rule, &to, &rendered, now);
            let mut tx = Tx::new();
            tx.push((), mails::put_new(&rec)?);
            match tx.commit(ctx).await? {
                Commit::Done => made += 1,
                Commit::Refused(()) => {} // stored by an earlier run
            }
        }
    }
    Ok(made)
}

fn recipients(ctx: &Ctx, to: To, event: &Envelope) -> Vec<String> {
    match to {
        To::Staff => ctx.settings.staff_email.clone(),
        To::Buyer => match event.data.get("email").and_then(|v| v.as_str()).map(Email::parse) {
            Some(Ok(email)) => vec![email.as_str().to_string()],
            _ => {
                tracing::warn!(event_id = %event.id, kind = %event.kind, "event has no valid buyer email: no mail");
                Vec::new()
            }
        },
    }
}

/// The buyer's own links (`dispatch::with_links`, sign-in mails): each is
/// a credential (an order token, a sign-in), so a mail whose event carries
/// one is blanked once sent, and a reader of the table cannot use it.
pub const BUYER_LINKS: [&str; 3] = ["order_url", "renew_url", "link_url"];

fn record(event: &Envelope, rule: &Rule, to: &str, rendered: &Result<Rendered, String>, now: Timestamp) -> MailRecord {
    let mut rec = MailRecord {
        mail_id: mails::mail_id(&event.id, rule.template, to),
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        template: rule.template.to_string(),
        to: to.to_string(),
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        status: MailStatus::Pending,
        attempts: 0,
        created_at: now,
        next_attempt_at: Some(now),
        last_attempt_at: None,
        sent_at: None,
        last_error: None,
        secret: BUYER_LINKS.iter().any(|l| event.data.get(l).is_some()),
    };
    match rendered {
        Ok(r) => (rec.subject, rec.text, rec.html) = (r.subject.clone(), r.text.clone(), r.html.clone()),
        Err(e) => {
            tracing::error!(event_id = %event.id, template = rule.template, error = %e, "mail not rendered");
            (rec.status, rec.next_attempt_at, rec.last_error) = (MailStatus::Failed, None, Some(e.clone()));
        }
    }
    rec
}

/// A mail as the event log and the staff see it: who, what, how it went.
/// No body: it may hold the buyer's link.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MailView {
    pub mail_id: String,
    pub event_id: String,
    pub template: String,
    pub to: String,
    pub subject: String,
    pub status: MailStatus,
    pub attempts: u32,
    /// RFC 3339 times.
    pub created_at: String,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
}

impl From<MailRecord> for MailView {
    fn from(r: MailRecord) -> Self {
        let t = |t: Option<Timestamp>| t.map(|t| t.rfc3339());
        MailView {
            mail_id: r.mail_id,
            event_id: r.event_id,
            template: r.template,
            to: r.to,
            subject: r.subject,
            status: r.status,
            attempts: r.attempts,
            created_at: r.created_at.rfc3339(),
            last_attempt_at: t(r.last_attempt_at),
            next_attempt_at: t(r.next_attempt_at),
            sent_at: t(r.sent_at),
            last_error: r.last_error,
        }
    }
}

/// The mails an event caused and how each went (for `GET /admin/events`).
pub async fn for_event(ctx: &Ctx, event_id: &str) -> Result<Vec<MailView>, ServiceError> {
    Ok(mails::of_event(ctx, event_id).read_all().await?.into_iter().map(MailView::from).collect())
}

/// One page of mails in `status`, newest first (for a `GET /admin/mail`).
pub async fn list(
    ctx: &Ctx,
    status: MailStatus,
    cursor: Option<String>,
    limit: usize,
) -> Result<(Vec<MailView>, Option<String>), ServiceError> {
    let (items, next) = mails::page(ctx, status, cursor, limit.clamp(1, 100)).await?;
    Ok((items.into_iter().map(MailView::from).collect(), next))
}
