//! Banning a file a live subscription uses. With stock to spare, the
//! subscription gets a replacement: both records, the subscription's file
//! list and two ban entries commit together with the intent that owes both
//! moves. Without, the file stays in use, is flagged (it goes to banned/ when
//! it comes back, see `revoke::destination`), the owner is told, and the
//! replacement waits for stock (`store::replacements`), filled first when
//! stock returns (`adjust::fill_waiting`). A buyer's own
//! report of a bad file takes the same path (`ban_owned`, `By::Buyer`).

use super::super::events::{self, Event};
use super::super::stock::{StockEntry, add};
use super::super::store::Guard;
use super::super::store::files::{self, FileRecord};
use super::super::store::orders;
use super::super::store::replacements::{self as waiting, Waiting};
use super::super::store::subscriptions::{self as subs, Replacement, SubscriptionRecord};
use super::super::tx::{Commit, Tx};
use super::super::{Ctx, ServiceError};
use super::intent::{AdjustIntent, finish, pending};
use super::{Action, FileResult, Outcome, at, keeps_holds};
use crate::domain::Location;
use crate::ports::Cond;

/// Replacement candidates read per try.
const CANDIDATES: usize = 10;

/// The writes of a ban, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The intent: another adjustment of the file is in flight.
    Intent,
    /// The banned file's record, as read and with its owner.
    Banned,
    /// The replacement's record: someone took it first.
    Replacement,
    /// The subscription, as read (rev).
    Subscription,
    /// The owner's event: a fresh id, so never refused.
    Event,
    /// The replacement waits for stock: it already did.
    Waiting,
}

/// Who bans an assigned file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Staff,
    /// Its buyer, reporting it bad (counted to the plan's cap by the caller).
    Buyer,
}

enum Step {
    Done(FileResult),
    /// The file or its subscription changed: read again.
    Raced,
    /// Someone took the candidate first.
    Taken,
    /// Open checkouts hold what is left.
    Short,
}

/// `None`: raced, read again.
pub(super) async fn ban(
    ctx: &Ctx,
    rec: &FileRecord,
    reason: &str,
    actor: &str,
) -> Result<Option<FileResult>, ServiceError> {
    let Some(sub) = owner(ctx, rec).await? else {
        return Ok(Some(FileResult::refused(&rec.name, "no live subscription lists it (it may be on its way back)")));
    };
    ban_owned(ctx, rec, &sub, reason, actor, By::Staff).await
}

/// Bans `rec`, which `sub` (live, as read) lists: replaced from stock, or
/// flagged to wait for it. `None`: raced, read again.
pub async fn ban_owned(
    ctx: &Ctx,
    rec: &FileRecord,
    sub: &SubscriptionRecord,
    reason: &str,
    actor: &str,
    by: By,
) -> Result<Option<FileResult>, ServiceError> {
    let name = rec.name.as_str();
    for candidate in free_files(ctx).await? {
        match replace(ctx, rec, sub, &candidate, reason, actor, by).await? {
            Step::Done(r) => return Ok(Some(r)),
            Step::Raced => return Ok(None),
            Step::Taken => continue,
            Step::Short => break,
        }
    }
    if rec.ban_on_return {
        return Ok(Some(FileResult {
            detail: Some("already flagged".into()),
            ..FileResult::new(name, Outcome::Unchanged)
        }));
    }
    flag(ctx, rec, sub, reason, actor, by).await
}

/// The live subscription that lists the file.
async fn owner(ctx: &Ctx, rec: &FileRecord) -> Result<Option<SubscriptionRecord>, ServiceError> {
    let Some(order_id) = &rec.order_id else { return Ok(None) };
    let Some(order) = orders::get(ctx, order_id).await? else { return Ok(None) };
    // Add-on files belong to the subscription the add-on was for; a renewal
    // bought after its subscription ended started one of its own.
    for sub_id in order.for_subscription.into_iter().chain([format!("S{order_id}")]) {
        if let Some(sub) = subs::get(ctx, &sub_id).await?
            && sub.ended.is_none()
            && sub.files.contains(&rec.name)
            && rec.user_id.as_ref() == Some(&sub.user_id)
        {
            return Ok(Some(sub));
        }
    }
    Ok(None)
}

/// Files the records list as unused, not in the middle of an adjustment.
async fn free_files(ctx: &Ctx) -> Result<Vec<String>, ServiceError> {
    let page = files::at(ctx, Location::Unused, CANDIDATES).next_page().await?.unwrap_or_default();
    let mut out = Vec::new();
    for f in page {
        if f.location == Location::Unused && !pending(ctx, &f.name).await? {
            out.push(f.name);
        }
    }
    Ok(out)
}

async fn replace(
    ctx: &Ctx,
    rec: &FileRecord,
    sub: &SubscriptionRecord,
    new: &str,
    reason: &str,
    actor: &str,
    by: By,
) -> Result<Step, ServiceError> {
    let (name, user, now) = (rec.name.as_str(), sub.user_id.as_str(), ctx.clock.now());
    let moves = vec![
        (format!("assigned/{user}/{name}"), Some(format!("banned/{name}"))),
        (format!("unused/{new}"), Some(format!("assigned/{user}/{new}"))),
    ];
    let mut intent = AdjustIntent::new(ctx, name, Action::Ban, moves, actor);
    intent.notify = Some(Event::FileReplaced {
        subscription_id: sub.subscription_id.clone(),
        order_id: sub.order_id.clone(),
        user_id: user.to_string(),
        email: sub.email.clone(),
        file: name.to_string(),
        replacement: new.to_string(),
        reason: reason.to_string(),
    });
    let Some(order_id) = rec.order_id.as_deref() else { return Ok(Step::Raced) };
    let list: Vec<String> = sub.files.iter().map(|f| if f == name { new.to_string() } else { f.clone() }).collect();
    let flagged: Vec<String> = sub.flagged.iter().filter(|f| *f != name).cloned().collect();
    let mut replacements = sub.replacements.clone();
    match replacements.iter_mut().find(|r| r.file == name) {
        // It waited for stock: the same report, filled now.
        Some(r) => {
            r.new_file = Some(new.to_string());
            r.replaced_at = Some(now);
        }
        None => replacements.push(Replacement {
            id: intent.id.clone(),
            file: name.to_string(),
            new_file: Some(new.to_string()),
            reported_at: now,
            replaced_at: Some(now),
            by_buyer: by == By::Buyer,
        }),
    }
    let as_read = Cond::And(vec![files::unchanged(rec)?, files::is_with(user)]);
    let mut tx = Tx::new();
    tx.push(Part::Intent, intent.write()?)
        .push(Part::Banned, files::ban(name, now)?.when(as_read))
        .push(Part::Replacement, files::assign(new, user, order_id, now)?)
        .push(Part::Subscription, subs::replace_files(sub, &list, &flagged, &replacements)?);
    if sub.flagged.iter().any(|f| f == name) {
        tx.push(Part::Waiting, waiting::done(&sub.subscription_id, name));
    }
    let entry = |file: &str, change, why: String| StockEntry {
        kind: crate::domain::LedgerKind::Ban,
        file: Some(file.to_string()),
        change,
        reason: why,
        reference: sub.subscription_id.clone(),
        actor: actor.to_string(),
    };
    tx.stock(entry(name, add(at(Location::Assigned, -1), at(Location::Banned, 1)), reason.to_string()));
    tx.stock(entry(
        new,
        add(at(Location::Unused, -1), at(Location::Assigned, 1)),
        format!("replaces banned {name}: {reason}"),
    ));
    tx.check(keeps_holds);
    match tx.commit(ctx).await {
        Ok(Commit::Done) => {}
        Err(ServiceError::InsufficientStock { .. }) => return Ok(Step::Short),
        Ok(Commit::Refused(Part::Intent)) => {
            finish(ctx, name).await?;
            return Ok(Step::Raced);
        }
        Ok(Commit::Refused(Part::Replacement)) => return Ok(Step::Taken),
        Ok(Commit::Refused(Part::Banned | Part::Subscription | Part::Event | Part::Waiting)) => return Ok(Step::Raced),
        Err(e) => return Err(e),
    }
    ctx.faults.hit("adjust.after_commit")?;
    finish(ctx, name).await?;
    Ok(Step::Done(FileResult { replacement: Some(new.to_string()), ..FileResult::new(name, Outcome::Replaced) }))
}

/// No replacement: the decision is booked (a ban entry that moves nothing)
/// and the owner told; the file goes to banned/ when it returns.
async fn flag(
    ctx: &Ctx,
    rec: &FileRecord,
    sub: &SubscriptionRecord,
    reason: &str,
    actor: &str,
    by: By,
) -> Result<Option<FileResult>, ServiceError> {
    let (name, now) = (rec.name.as_str(), ctx.clock.now());
    let mut flagged = sub.flagged.clone();
    flagged.push(name.to_string());
    let mut replacements = sub.replacements.clone();
    replacements.push(Replacement {
        id: ctx.ids.next_id(),
        file: name.to_string(),
        new_file: None,
        reported_at: now,
        replaced_at: None,
        by_buyer: by == By::Buyer,
    });
    let wait = Waiting { subscription_id: sub.subscription_id.clone(), file: name.to_string(), since: now };
    let mut tx = Tx::new();
    tx.push(Part::Banned, files::flag(name).when(files::unchanged(rec)?))
        .push(Part::Subscription, subs::set_flagged(sub, &flagged, &replacements)?)
        .push(Part::Waiting, waiting::wait(&wait)?);
    tx.stock(StockEntry {
        kind: crate::domain::LedgerKind::Ban,
        file: Some(name.to_string()),
        change: Default::default(),
        reason: format!("{reason} (no replacement in stock: flagged, banned when it returns)"),
        reference: sub.subscription_id.clone(),
        actor: actor.to_string(),
    });
    let event = Event::FileFlagged {
        subscription_id: sub.subscription_id.clone(),
        order_id: sub.order_id.clone(),
        user_id: sub.user_id.clone(),
        email: sub.email.clone(),
        file: name.to_string(),
        reason: reason.to_string(),
    };
    tx.push(Part::Event, events::record(ctx, &event)?);
    // The file or the subscription changed since read: read again.
    if let Commit::Refused(_) = tx.commit(ctx).await? {
        return Ok(None);
    }
    tracing::warn!(file = name, subscription_id = %sub.subscription_id, "banned file flagged: no replacement in stock");
    Ok(Some(FileResult::new(name, Outcome::Flagged)))
}
