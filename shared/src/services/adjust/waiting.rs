//! Replacements that wait for stock (a buyer's report, a staff ban with none
//! to give), filled first when stock returns: here, beside the ban they
//! finish, so the places stock returns (restock, unfreeze, revoke, expiry,
//! reconcile) call down into `adjust`, never back up into `replacements`.

use super::{Outcome, ban_file};
use crate::domain::Location;
use crate::services::store::files;
use crate::services::store::replacements::{self as waiting, Waiting};
use crate::services::store::subscriptions as subs;
use crate::services::{Ctx, ServiceError};

/// Replacements waiting for stock, filled now that some returned (before
/// backordered orders are queued). Returns how many were filled.
pub async fn fill_waiting(ctx: &Ctx) -> Result<u64, ServiceError> {
    let mut filled = 0;
    for w in waiting::all(ctx).read_all().await? {
        if !fillable(ctx, &w).await? {
            // Ended, filled or taken back another way: nothing waits any more.
            forget(ctx, &w).await?;
            continue;
        }
        let reason = format!("replacement waiting for stock since {}", w.since.rfc3339());
        if ban_file(ctx, &w.file, &reason, "system:restock").await?.outcome == Outcome::Replaced {
            filled += 1;
            continue;
        }
        // Still fillable: there was none to give, and the rest wait too.
        if fillable(ctx, &w).await? {
            break;
        }
        // It stopped being fillable meanwhile: it goes, and the next is tried.
        forget(ctx, &w).await?;
    }
    if filled > 0 {
        tracing::info!(filled, "replacements waiting for stock filled");
    }
    Ok(filled)
}

/// Whether a replacement can still be given for `w`: its live subscription
/// uses the flagged file, and the file is with that subscription's buyer.
async fn fillable(ctx: &Ctx, w: &Waiting) -> Result<bool, ServiceError> {
    let Some(sub) = subs::get(ctx, &w.subscription_id).await? else { return Ok(false) };
    if sub.ended.is_some() || !sub.flagged.contains(&w.file) || !sub.files.contains(&w.file) {
        return Ok(false);
    }
    let rec = files::get(ctx, &w.file).await?;
    Ok(rec.is_some_and(|r| r.location == Location::Assigned && r.user_id.as_deref() == Some(sub.user_id.as_str())))
}

async fn forget(ctx: &Ctx, w: &Waiting) -> Result<(), ServiceError> {
    tracing::info!(subscription_id = %w.subscription_id, file = %w.file, "a waiting replacement can no longer be filled");
    Ok(ctx.records.transact(vec![waiting::done(&w.subscription_id, &w.file)]).await?)
}
