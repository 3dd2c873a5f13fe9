//! Replacements that wait for stock (a buyer's report, a staff ban with none
//! to give), filled first when stock returns: here, beside the ban they
//! finish, so the places stock returns (restock, unfreeze, revoke, expiry,
//! reconcile) call down into `adjust`, never back up into `replacements`.

use super::{Outcome, ban_file};
use crate::services::store::replacements as waiting;
use crate::services::store::subscriptions as subs;
use crate::services::{Ctx, ServiceError};

/// Replacements waiting for stock, filled now that some returned (before
/// backordered orders are queued). Returns how many were filled.
pub async fn fill_waiting(ctx: &Ctx) -> Result<u64, ServiceError> {
    let mut filled = 0;
    for w in waiting::all(ctx).read_all().await? {
        let sub = subs::get(ctx, &w.subscription_id).await?;
        let live = sub.filter(|s| s.ended.is_none() && s.flagged.contains(&w.file));
        if live.is_none() {
            // Ended, or filled another way: nothing waits any more.
            ctx.records.transact(vec![waiting::done(&w.subscription_id, &w.file)]).await?;
            continue;
        }
        let reason = format!("replacement waiting for stock since {}", w.since.rfc3339());
        match ban_file(ctx, &w.file, &reason, "system:restock").await?.outcome {
            Outcome::Replaced => filled += 1,
            // Still none to give: the rest wait too.
            _ => break,
        }
    }
    if filled > 0 {
        tracing::info!(filled, "replacements waiting for stock filled");
    }
    Ok(filled)
}
