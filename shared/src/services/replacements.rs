//! Replacements under warranty: a buyer reports a file of theirs bad
//! (`POST /me/subscriptions/{id}/replacements`); it goes to banned/ and the
//! subscription gets a fresh one from stock, exactly once, through the same
//! intent and transaction as a staff ban (`adjust::ban_owned`). With no
//! stock the report waits and is filled first when stock returns
//! (`adjust::fill_waiting`); the file stays in use meanwhile, so the subscription
//! keeps its file count.
//!
//! Who may: only the subscription's buyer (anyone else: 404), while it is
//! live, for a file it lists, within the plan's `warranty_hours` of that
//! file's delivery and at most `max_replacements` times. The cap is checked
//! against the subscription as read, and the commit is guarded by its
//! revision, so two reports at once cannot both pass it.

use serde::{Deserialize, Serialize};

use super::adjust::{self, By, FileResult, Outcome};
use super::retry::{Step, retry};
use super::store::files::{self, FileRecord};
use super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::{Ctx, Refusal, ServiceError, catalog};
use crate::domain::{DEFAULT_WARRANTY_HOURS, Email, FileName, Location, UserId};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReportBody {
    /// The file, as `GET /me` lists it.
    #[schema(value_type = crate::domain::FileName)]
    pub file: String,
    /// What is wrong with it (1 to 500 characters); kept in the ledger.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ReplacementStatus)]
pub enum Status {
    /// A fresh file took its place.
    Replaced,
    /// No stock: the file stays in use and a fresh one follows first thing
    /// when stock returns.
    Backordered,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplacementView {
    pub replacement_id: String,
    pub status: Status,
    pub old_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_file: Option<String>,
}

/// What a report came to; `created` is false for a repeat of one already made.
#[derive(Debug)]
pub struct Reported {
    pub view: ReplacementView,
    pub created: bool,
}

/// The buyer `email` reports `body.file` of subscription `sub_id` bad.
pub async fn report(ctx: &Ctx, email: &Email, sub_id: &str, body: &ReportBody) -> Result<Reported, ServiceError> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ServiceError::BadInput("reason: say what is wrong, in at most 500 characters".into()));
    }
    let file = FileName::parse(&body.file).map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let name = file.as_str();
    let user = UserId::for_email(email);
    let actor = format!("customer:{}", email.as_str());
    let reason = format!("reported by its buyer: {reason}");
    // An earlier ban of this file that crashed half way ends first.
    adjust::finish(ctx, name).await?;
    retry(name, || async {
        let sub = subs::get(ctx, sub_id).await?.filter(|s| s.user_id == user.as_str());
        let Some(sub) = sub else { return Err(ServiceError::NotFound("no such subscription of yours".into())) };
        if let Some(done) = already(&sub, name) {
            return Ok(Step::Done(Reported { view: done, created: false }));
        }
        let Some(rec) = check(ctx, &sub, name, user.as_str()).await? else {
            // The file's record moved after the subscription was read: a
            // report beside this one replaced it (record and subscription
            // change in one commit). Read again to answer as a repeat.
            let fresh = subs::get(ctx, sub_id).await?;
            if fresh.is_some_and(|f| f.rev != sub.rev) {
                return Ok(Step::Again);
            }
            return Err(not_theirs(name));
        };
        let Some(result) = adjust::ban_owned(ctx, &rec, &sub, &reason, &actor, By::Buyer).await? else {
            return Ok(Step::Again);
        };
        match result.outcome {
            // Unchanged: flagged before reports were recorded; it waits.
            Outcome::Replaced | Outcome::Flagged | Outcome::Unchanged => {
                Ok(Step::Done(made(ctx, sub_id, name, &result).await?))
            }
            _ => Ok(Step::Again),
        }
    })
    .await
}

/// The answer to a repeat (or to a file staff banned already): the
/// replacement as it stands now.
fn already(sub: &SubscriptionRecord, name: &str) -> Option<ReplacementView> {
    sub.replacement_of(name).map(|r| ReplacementView {
        replacement_id: r.id.clone(),
        status: if r.new_file.is_some() { Status::Replaced } else { Status::Backordered },
        old_file: r.file.clone(),
        new_file: r.new_file.clone(),
    })
}

const ENDED: Refusal = Refusal { kind: "subscription-ended", title: "The subscription has ended" };
const LIMIT: Refusal = Refusal { kind: "replacement-limit", title: "No replacements left" };
const WARRANTY: Refusal = Refusal { kind: "out-of-warranty", title: "The file is out of warranty" };

fn not_theirs(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("'{name}' is not one of this subscription's files"))
}

/// Live, theirs, in warranty, under the cap: its record; `None` when the
/// record is not (or no longer) the buyer's; else why not.
async fn check(
    ctx: &Ctx,
    sub: &SubscriptionRecord,
    name: &str,
    user: &str,
) -> Result<Option<FileRecord>, ServiceError> {
    let refused = |why, detail: String| ServiceError::Refused { why, detail };
    if sub.ended.is_some() {
        return Err(refused(&ENDED, "its files went back".into()));
    }
    if !sub.files.iter().any(|f| f == name) {
        return Err(not_theirs(name));
    }
    let product = catalog::get(ctx, &sub.product_id).await?;
    let warranty = product.as_ref().map_or(DEFAULT_WARRANTY_HOURS, |p| p.warranty_hours);
    let cap = product.as_ref().map_or(u32::try_from(sub.files.len()).unwrap_or(u32::MAX), |p| p.replacement_cap());
    if sub.buyer_reports() >= cap {
        return Err(refused(&LIMIT, format!("this plan allows {cap} replacement(s) per subscription; staff can help")));
    }
    let rec = files::get(ctx, name).await?;
    let delivered = rec.filter(|r| r.location == Location::Assigned && r.user_id.as_deref() == Some(user));
    let Some(rec) = delivered else { return Ok(None) };
    let ends = rec.updated_at.plus_millis(i64::from(warranty) * 3_600_000);
    if ctx.clock.now() > ends {
        return Err(refused(
            &WARRANTY,
            format!(
                "files can be reported within {warranty} hours of delivery; this one was delivered at {}",
                rec.updated_at.rfc3339()
            ),
        ));
    }
    Ok(Some(rec))
}

async fn made(ctx: &Ctx, sub_id: &str, name: &str, result: &FileResult) -> Result<Reported, ServiceError> {
    let sub = subs::get(ctx, sub_id).await?;
    let id =
        sub.as_ref().and_then(|s| s.replacement_of(name)).map_or_else(|| format!("flagged:{name}"), |r| r.id.clone());
    let status = if result.outcome == Outcome::Replaced { Status::Replaced } else { Status::Backordered };
    let view = ReplacementView {
        replacement_id: id,
        status,
        old_file: name.to_string(),
        new_file: result.replacement.clone(),
    };
    Ok(Reported { view, created: true })
}

#[cfg(test)]
#[path = "replacements_tests.rs"]
mod tests;
