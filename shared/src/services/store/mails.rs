//! Outgoing mails (`MAIL#{event_id}` / `MAIL#{mail_id}`): one record per
//! mail an event causes, for one recipient. The key comes from the event,
//! the template and the address, so a repeated fan-out finds the record.
//! Mails sit in the `MAILS#{status}` index: pending ones by next attempt
//! (the mail job reads the due ones), sent and failed ones by when.
//! Kept 30 days, as the event log.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::items::{to_item, value};
use super::super::{Ctx, ServiceError};
use super::Pages;
use super::{sort_at, up_to};
use crate::domain::Timestamp;
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};

const TTL_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for its next attempt.
    Pending,
    Sent,
    /// Refused for good, or given up after the last retry.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailRecord {
    pub mail_id: String,
    pub event_id: String,
    pub event_type: String,
    pub template: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub status: MailStatus,
    /// Attempts started so far.
    pub attempts: u32,
    pub created_at: Timestamp,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default)]
    pub last_attempt_at: Option<Timestamp>,
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// The body holds a credential (a sign-in link): it is blanked once
    /// the mail is sent or given up.
    #[serde(default)]
    pub secret: bool,
}

/// The id of the mail `template` of event `event_id` to `to`: the same
/// on every fan-out of that event.
pub fn mail_id(event_id: &str, template: &str, to: &str) -> String {
    let h = Sha256::digest(format!("{event_id}\n{template}\n{}", to.to_lowercase()).as_bytes());
    hex::encode(&h[..12])
}

fn pk(event_id: &str) -> String {
    format!("MAIL#{event_id}")
}
pub fn key(event_id: &str, mail_id: &str) -> Key {
    Key::new(pk(event_id), format!("MAIL#{mail_id}"))
}
fn index(status: MailStatus) -> String {
    format!("MAILS#{}", status.as_str())
}

/// A new mail, once: fails its condition when that mail exists already.
pub fn put_new(rec: &MailRecord) -> Result<Write, ServiceError> {
    let at = rec.next_attempt_at.unwrap_or(rec.created_at);
    let gsi = (index(rec.status), sort_at(at, &rec.mail_id));
    let ttl = rec.created_at.plus_days(TTL_DAYS).secs();
    let item = to_item(&key(&rec.event_id, &rec.mail_id), rec, Some(gsi), Some(ttl))?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

/// Pending mails due at or before `upto`, soonest first.
pub fn due(ctx: &Ctx, upto: Timestamp, page: usize) -> Pages<'_, MailRecord> {
    let range = up_to(sort_at(upto, "~"));
    Pages::new(ctx, Query::new(Index::Gsi1, index(MailStatus::Pending)).sk(range).limit(page))
}

/// The mails of one event (for the event log).
pub fn of_event<'a>(ctx: &'a Ctx, event_id: &str) -> Pages<'a, MailRecord> {
    Pages::new(ctx, Query::new(Index::Table, pk(event_id)).sk(SkRange::Prefix("MAIL#".into())))
}

/// One page of mails in `status`, newest first, and where the next starts.
pub async fn page(
    ctx: &Ctx,
    status: MailStatus,
    cursor: Option<String>,
    limit: usize,
) -> Result<(Vec<MailRecord>, Option<String>), ServiceError> {
    let query = Query::new(Index::Gsi1, index(status)).descending().limit(limit).after(cursor);
    let page = ctx.records.query(query).await?;
    let items = page.items.into_iter().map(super::super::items::from_item).collect::<Result<_, _>>()?;
    Ok((items, page.next))
}

/// Guard: the mail is as we read it (pending, `attempts` started).
fn unchanged(attempts: u32) -> Cond {
    Cond::And(vec![Cond::eq("status", MailStatus::Pending.as_str()), Cond::eq("attempts", attempts)])
}

/// Attempt `attempts + 1` starts now; if nothing is heard of it, the mail
/// is due again at `retry_at`.
pub fn claim(rec: &MailRecord, now: Timestamp, retry_at: Timestamp) -> Result<Write, ServiceError> {
    let changes = vec![
        Change::Set("attempts".into(), (rec.attempts + 1).into()),
        Change::Set("last_attempt_at".into(), value(&now)?),
        Change::Set("next_attempt_at".into(), value(&retry_at)?),
        Change::Set(GSI1SK.into(), sort_at(retry_at, &rec.mail_id).into()),
    ];
    Ok(Write::Update { key: key(&rec.event_id, &rec.mail_id), changes, cond: Some(unchanged(rec.attempts)) })
}

/// The claimed attempt (`attempts` now counts it) ended: `Ok` sent it,
/// `Err(error, Some(retry_at))` retries then, `Err(error, None)` gives up.
pub fn settle(
    rec: &MailRecord,
    attempts: u32,
    now: Timestamp,
    outcome: Result<(), (&str, Option<Timestamp>)>,
) -> Result<Write, ServiceError> {
    let (status, at, mut changes) = match outcome {
        Ok(()) => (MailStatus::Sent, now, vec![Change::Set("sent_at".into(), value(&now)?)]),
        Err((error, Some(retry_at))) => (
            MailStatus::Pending,
            retry_at,
            vec![
                Change::Set("last_error".into(), error.into()),
                Change::Set("next_attempt_at".into(), value(&retry_at)?),
            ],
        ),
        Err((error, None)) => (MailStatus::Failed, now, vec![Change::Set("last_error".into(), error.into())]),
    };
    if status != MailStatus::Pending {
        changes.push(Change::Remove("next_attempt_at".into()));
        if rec.secret {
            changes.push(Change::Set("text".into(), "".into()));
            changes.push(Change::Set("html".into(), "".into()));
        }
    }
    changes.push(Change::Set("status".into(), value(&status)?));
    changes.push(Change::Set(GSI1PK.into(), index(status).into()));
    changes.push(Change::Set(GSI1SK.into(), sort_at(at, &rec.mail_id).into()));
    Ok(Write::Update { key: key(&rec.event_id, &rec.mail_id), changes, cond: Some(unchanged(attempts)) })
}
