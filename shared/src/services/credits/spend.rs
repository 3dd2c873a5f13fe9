//! Paying with credits: a pending debit written in the checkout's own
//! transaction (guarded so spendable never goes below zero), posted when the
//! order is paid, voided when it expires or fails.

use super::ledger::{self, Guarded, Outcome};
use super::records::{AccountRecord, TransferRecord};
use crate::domain::{Action, Direction, EntryKind, OrderStatus, TransferState};
use crate::ports::{Cond, Write};
use crate::services::items::from_item;
use crate::services::model::OrderRecord;
use crate::services::store::{credits as store, orders as order_store};
use crate::services::{Ctx, ServiceError, keys};

pub fn spend_id(order_id: &str) -> String {
    format!("P{order_id}")
}

/// A spend voided by expiry whose order was paid after all (a late payment):
/// the credits it was priced with are charged by this second transfer.
fn late_id(order_id: &str) -> String {
    format!("L{order_id}")
}

/// What an order's status asks of its spend.
pub fn action_for(status: OrderStatus) -> Option<Action> {
    use OrderStatus::*;
    match status {
        Paid | Fulfilled | Backordered | Refunded => Some(Action::Post),
        Expired | Failed => Some(Action::Void),
        Pending | Confirming | PartiallyPaid => None,
    }
}

pub async fn account(ctx: &Ctx, user_id: &str) -> Result<AccountRecord, ServiceError> {
    match ctx.records.get(&keys::credit_account(user_id)).await? {
        Some(item) => Ok(from_item(item)?),
        None => Ok(AccountRecord::default()),
    }
}

fn transfer(ctx: &Ctx, order: &OrderRecord, id: String) -> TransferRecord {
    TransferRecord {
        id,
        user_id: order.user_id.clone(),
        email: order.email.clone(),
        origin: EntryKind::Spend,
        dir: Direction::Out,
        amount: order.credits,
        state: TransferState::Pending,
        reversed: false,
        order_id: Some(order.order_id.clone()),
        reason: format!("paid toward {}", order.product_id),
        actor: "checkout".into(),
        created_at: ctx.clock.now(),
        // The job settles it if no payment event does first.
        due_at: Some(order.reserved_until),
    }
}

/// The checkout's writes for the pending debit: the transfer, the account
/// (condition: spendable >= credits) and the entry.
pub fn opening_writes(ctx: &Ctx, order: &OrderRecord) -> Result<Vec<Write>, ServiceError> {
    let t = transfer(ctx, order, spend_id(&order.order_id));
    let mut writes = vec![Write::Put { item: ledger::transfer_item(&t)?, cond: Some(Cond::NotExists) }];
    writes.extend(ledger::entry_writes(ctx, &t, EntryKind::Spend, "checkout", true)?);
    Ok(writes)
}

/// Posts or voids the order's spend as its status says. Safe to repeat.
pub async fn settle_order(ctx: &Ctx, order_id: &str, actor: &str) -> Result<Option<Outcome>, ServiceError> {
    loop {
        let Some(b) = crate::services::orders::load(ctx, order_id).await? else { return Ok(None) };
        let order = b.order;
        if order.credits <= 0 {
            return Ok(None);
        }
        let Guarded::Held(outcome) = follow(ctx, &spend_id(order_id), order_id, order.status, actor).await? else {
            // The order moved (paid late) while the spend was being voided.
            continue;
        };
        if outcome == Some(Outcome::Unchanged(TransferState::Voided)) && action_for(order.status) == Some(Action::Post)
        {
            // Paid after the spend was voided: the move to paid opened the
            // late charge (`late_writes`); an order paid late before it
            // did gets one here, still never past the balance.
            let late = transfer(ctx, &order, late_id(order_id));
            ledger::open(ctx, &late, true).await?;
            return ledger::transition(ctx, &late.id, Action::Post, actor).await;
        }
        return Ok(outcome);
    }
}

/// Settles spend `id` as its order's `status` says. A void commits only
/// while the order is still in that status: an expired order paid late
/// must not have its credits given back after its move to paid read them
/// as still held (`Broken`: read the order again).
pub(super) async fn follow(
    ctx: &Ctx,
    id: &str,
    order_id: &str,
    status: OrderStatus,
    actor: &str,
) -> Result<Guarded, ServiceError> {
    let Some(action) = action_for(status) else { return Ok(Guarded::Held(None)) };
    let guard = (action == Action::Void)
        .then(|| Write::Check { key: order_store::key(order_id), cond: order_store::is_status(status) });
    ledger::transition_while(ctx, id, action, actor, guard).await
}

/// What an expired or failed order's move to paid (a late payment) needs
/// of its credits, committed with the move.
pub enum LateCharge {
    /// No credits, or the spend is settled already.
    Nothing,
    /// The spend is still pending and posts after the move: the move holds
    /// only while it stays pending (the credits job may be voiding it).
    StillHeld(Write),
    /// The spend was voided, so those credits went back: the move takes
    /// them again, refused (like a short payment) if they are spent.
    Charge(Vec<Write>),
}

pub async fn late_writes(ctx: &Ctx, order: &OrderRecord) -> Result<LateCharge, ServiceError> {
    if order.credits <= 0 {
        return Ok(LateCharge::Nothing);
    }
    let Some(spend) = ledger::load(ctx, &spend_id(&order.order_id)).await? else { return Ok(LateCharge::Nothing) };
    Ok(match spend.state {
        TransferState::Pending => LateCharge::StillHeld(store::transfer_is(&spend)?),
        TransferState::Voided => {
            let late = transfer(ctx, order, late_id(&order.order_id));
            LateCharge::Charge(ledger::open_writes(ctx, &late, true)?)
        }
        _ => LateCharge::Nothing,
    })
}

/// After a payment event: logged, not failed (the job settles it later).
pub async fn after_payment(ctx: &Ctx, order_id: &str, actor: &str) {
    if let Err(e) = settle_order(ctx, order_id, actor).await {
        tracing::error!(order_id, error = ?e, "could not settle the order's credits; the credits job will");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::credits::{GiftBody, gift};
    use crate::services::tx::Tx;
    use crate::testkit::stack::{BUYER, embedded_ctx, paid_order};

    /// The credits job read an order as expired and went to void its spend;
    /// meanwhile a late payment moved the order to paid. The void must not
    /// commit, or the credits would be back to spend while the order is paid.
    #[tokio::test]
    async fn a_void_read_from_a_status_the_order_left_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = embedded_ctx(dir.path());
        let id = paid_order(&ctx, "bronze").await;
        let body = GiftBody { email: BUYER.into(), amount: 10, reason: "test".into() };
        gift(&ctx, body, "staff:test").await.unwrap();
        let mut order = crate::services::orders::load(&ctx, &id).await.unwrap().unwrap().order;
        order.credits = 10;
        let mut tx = Tx::new();
        tx.extend((), opening_writes(&ctx, &order).unwrap());
        assert!(tx.commit(&ctx).await.unwrap().is_done());
        let spend = spend_id(&id);

        let stale = follow(&ctx, &spend, &id, OrderStatus::Expired, "job").await.unwrap();
        assert_eq!(stale, Guarded::Broken);
        assert_eq!(ledger::load(&ctx, &spend).await.unwrap().unwrap().state, TransferState::Pending);
        assert_eq!(account(&ctx, &order.user_id).await.unwrap().spendable, 0, "still held");

        let now = follow(&ctx, &spend, &id, OrderStatus::Paid, "job").await.unwrap();
        assert_eq!(now, Guarded::Held(Some(Outcome::Wrote(EntryKind::Post))));
    }
}
