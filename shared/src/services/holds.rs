//! Checkout holds that lapse: the unpaid order expires and its stock goes
//! back (through the lifecycle), or, for an order no longer open, only the
//! hold is released.

use super::lifecycle::{self, Move, Moved, release_entry};
use super::store::orders::{self, OrderBundle};
use super::tx::Tx;
use super::{Ctx, ServiceError};
use crate::domain::OrderStatus;

/// Releases every hold whose time has passed and expires its unpaid order.
/// Returns how many holds were released.
pub async fn release_lapsed(ctx: &Ctx) -> Result<u32, ServiceError> {
    let now = ctx.clock.now();
    let mut released = 0;
    let mut holds = orders::holds_due(ctx, now);
    while let Some(page) = holds.next_page().await? {
        for hold in page {
            if hold.expires_at > now {
                continue;
            }
            let Some(bundle) = orders::load(ctx, &hold.order_id).await? else { continue };
            let order = &bundle.order;
            // Only unpaid orders expire; a paid one keeps its hold for fulfilment.
            if order.status.is_paid() {
                continue;
            }
            let done = if order.status.is_open() {
                let mut m = Move::new(&bundle, OrderStatus::Expired, "expire", "hold lapsed");
                m.close_invoice = true;
                matches!(lifecycle::apply(ctx, m).await?, Moved::Done(_))
            } else {
                release_only(ctx, &bundle, hold.count).await?
            };
            released += u32::from(done);
        }
    }
    Ok(released)
}

/// A hold left beside an order that is no longer open nor paid: give its
/// stock back. False when someone else did first.
async fn release_only(ctx: &Ctx, b: &OrderBundle, count: u32) -> Result<bool, ServiceError> {
    let id = &b.order.order_id;
    let mut tx: Tx<()> = Tx::new();
    tx.push((), orders::delete_hold(id)).stock(release_entry(id, count, "hold lapsed", "expire"));
    let done = tx.commit(ctx).await?.is_done();
    if done {
        lifecycle::close_invoice(ctx, b).await;
    }
    Ok(done)
}
