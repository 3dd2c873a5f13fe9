//! Paying with credits: a pending debit written in the checkout's own
//! transaction (guarded so spendable never goes below zero), posted when the
//! order is paid, voided when it expires or fails.

use super::ledger::{self, Outcome};
use super::records::{AccountRecord, TransferRecord};
use crate::domain::{Action, Direction, EntryKind, OrderStatus, TransferState};
use crate::ports::{Cond, Write};
use crate::services::items::from_item;
use crate::services::model::OrderRecord;
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
    let Some(b) = crate::services::orders::load(ctx, order_id).await? else { return Ok(None) };
    let order = b.order;
    if order.credits <= 0 {
        return Ok(None);
    }
    let Some(action) = action_for(order.status) else { return Ok(None) };
    let outcome = ledger::transition(ctx, &spend_id(order_id), action, actor).await?;
    if action == Action::Post && outcome == Some(Outcome::Unchanged(TransferState::Voided)) {
        let late = transfer(ctx, &order, late_id(order_id));
        ledger::open(ctx, &late, false).await?;
        return ledger::transition(ctx, &late.id, Action::Post, actor).await;
    }
    Ok(outcome)
}

/// After a payment event: logged, not failed (the job settles it later).
pub async fn after_payment(ctx: &Ctx, order_id: &str, actor: &str) {
    if let Err(e) = settle_order(ctx, order_id, actor).await {
        tracing::error!(order_id, error = ?e, "could not settle the order's credits; the credits job will");
    }
}
