//! A file reconcile once marked lost (its record went, a tombstone stayed)
//! that turns up under assigned/ with no record and no live subscription
//! listing it: a stale mover put it there after reconcile looked. It goes
//! back to stock: moved to unused/ first, then adopted, so a crash between
//! the two leaves an ordinary new file for the next scan.

use super::super::restock::{adopted, new_file};
use super::super::stock::StockEntry;
use super::super::store::files;
use super::super::tx::Tx;
use super::super::{ServiceError, adjust};
use super::Run;
use super::settle::Place;
use crate::domain::Location;

/// True when the file went back to stock.
pub(super) async fn return_to_stock(run: &mut Run<'_>, user: &str, name: &str) -> Result<bool, ServiceError> {
    let ctx = run.ctx;
    // Without a tombstone it was never stock we lost (staff may have put it
    // there); a pending write-off deletes the record before the object.
    if !files::was_lost(ctx, name).await? || adjust::pending(ctx, name).await? {
        return Ok(false);
    }
    if files::get(ctx, name).await?.is_some() {
        return Ok(false);
    }
    let from = Place::assigned(user).key(name);
    ctx.files.move_file(&from, &format!("unused/{name}")).await?;
    run.storage_moved = true;
    let entry = StockEntry {
        reference: "reconcile".into(),
        reason: format!("lost file found at {from}; back in stock"),
        ..adopted(name, run.actor)
    };
    let mut tx = Tx::new();
    tx.push((), files::put_new_file(&new_file(ctx, name, Location::Unused))?).stock(entry);
    if run.commit(tx).await?.is_done() {
        run.report.repaired += 1;
        run.matched_at(Location::Unused);
        run.stock_returned = true;
        tracing::warn!(file = name, %from, "lost file found under assigned/ with no owner; back in stock");
    }
    Ok(true)
}
