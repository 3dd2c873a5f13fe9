//! Intents (assign: ORDER#id/INTENT, revoke: SUB#id/REVOKE) sit in the
//! INTENTS index until done. A stale one is finished, never undone; a young
//! one is in flight, and the files it names are its own.

use super::super::fulfil::{self, FulfilOutcome};
use super::super::store::files::FileRecord;
use super::super::store::intents::{Kind, each_pending, parse};
use super::super::store::{orders, revokes};
use super::super::{Ctx, ServiceError, adjust, keys, revoke};
use super::Run;

/// An unfinished intent older than this is finished by reconcile.
pub const STALE_AFTER_MILLIS: i64 = 5 * 60 * 1000;

/// Finishes every stale intent through its own idempotent path.
pub(super) async fn finish_stale(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let cutoff = ctx.clock.now().plus_millis(-STALE_AFTER_MILLIS);
    let mut stale = Vec::new();
    each_pending(ctx, Some(keys::sort_at(cutoff, "~")), |p| stale.push(p.kind)).await?;
    for kind in stale {
        // Some(why) when the intent cannot finish by itself.
        let finished = match &kind {
            Kind::Assign(order_id) => fulfil::fulfil(ctx, order_id).await.map(|o| match o {
                FulfilOutcome::Fulfilled { .. } | FulfilOutcome::AlreadyDone => None,
                other => Some(format!("{other:?}")),
            }),
            Kind::Revoke(sub_id) => revoke::finish(ctx, sub_id).await.map(|_| None),
            Kind::Adjust(file) => adjust::finish(ctx, file).await.map(|_| None),
        };
        match finished {
            Ok(None) => {
                run.report.stale_intents += 1;
                tracing::warn!(?kind, "finished a stale intent");
            }
            Ok(Some(why)) => {
                run.report.errors += 1;
                tracing::error!(?kind, %why, "a stale intent cannot finish; staff must look");
            }
            Err(e) => {
                run.report.errors += 1;
                tracing::error!(?kind, error = ?e, "could not finish a stale intent");
            }
        }
    }
    Ok(())
}

/// How many intents are unfinished right now.
pub(super) async fn pending(ctx: &Ctx) -> Result<usize, ServiceError> {
    let mut n = 0;
    each_pending(ctx, None, |_| n += 1).await?;
    Ok(n)
}

/// Whether an unfinished intent owns the file. The record's own order is
/// read directly (strongly consistent); the index catches the rest, such as
/// a subscription whose files came from several orders.
pub(super) async fn owned(ctx: &Ctx, rec: &FileRecord) -> Result<bool, ServiceError> {
    if adjust::pending(ctx, &rec.name).await? {
        return Ok(true);
    }
    if let Some(order_id) = &rec.order_id {
        // Fulfilment derives the subscription id from the order id.
        for key in [orders::intent_key(order_id), revokes::key(&format!("S{order_id}"))] {
            // Stored items carry their key, so `parse` tells the kinds apart.
            if let Some(item) = ctx.records.get(&key).await?
                && parse(&item).is_some()
            {
                return Ok(true);
            }
        }
    }
    let mut found = false;
    each_pending(ctx, None, |p| found |= p.files.contains(&rec.name)).await?;
    Ok(found)
}
