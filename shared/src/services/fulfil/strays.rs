//! A run that moved files but did not finish (another run finished first, or
//! the order was refunded) may have moved them late: after a refund or an
//! expiry had already sent them back. A file left under the buyer while its
//! record says elsewhere goes where the record says, so reconcile never
//! sees a record without its file (and marks it lost).

use crate::domain::Location;
use crate::services::model::{IntentRecord, OrderRecord};
use crate::services::store::files::{self, FileRecord};
use crate::services::{Ctx, ServiceError, revoke};

pub(super) async fn put_back(ctx: &Ctx, order: &OrderRecord, intent: &IntentRecord) -> Result<(), ServiceError> {
    // A revoke still moving these files books them when its moves are done:
    // finish it first (idempotent), so the records below are final.
    let own = format!("S{}", order.order_id);
    for sid in std::iter::once(own.as_str()).chain(order.for_subscription.as_deref()) {
        revoke::finish(ctx, sid).await?;
    }
    for name in &intent.files {
        let ours = format!("assigned/{}/{name}", intent.user_id);
        let Some(rec) = files::get(ctx, name).await? else { continue };
        if belongs(&rec, &intent.user_id) || ctx.files.head(&ours).await?.is_none() {
            continue;
        }
        let home = rec.storage_key();
        ctx.files.move_file(&ours, &home).await?;
        tracing::warn!(file = %name, order_id = %order.order_id, to = %home, "a late move put back");
        // The same buyer may have claimed it again meanwhile (its own move
        // found the file already there): then it goes back to them.
        if let Some(now) = files::get(ctx, name).await?
            && belongs(&now, &intent.user_id)
        {
            ctx.files.move_file(&home, &ours).await?;
        }
    }
    Ok(())
}

fn belongs(rec: &FileRecord, user: &str) -> bool {
    rec.location == Location::Assigned && rec.user_id.as_deref() == Some(user)
}
