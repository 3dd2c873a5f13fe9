//! Credits a purchase earns, and deactivating a purchase: a pending earn is
//! voided, a posted one reversed, once, whichever of post and deactivate
//! comes first.

use serde::Serialize;

use super::ledger::{self, Outcome};
use super::records::TransferRecord;
use crate::domain::{Action, Direction, EntryKind, OrderId, TransferState};
use crate::ports::{Cond, Write};
use crate::services::model::OrderRecord;
use crate::services::retry::{Step, retry};
use crate::services::store::orders;
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError};

/// The earn transfer of an order (one per order, so a retry finds it).
pub fn earn_id(order_id: &str) -> String {
    format!("E{order_id}")
}

/// The writes of the pending credit an order earns as it is fulfilled:
/// floor(cash paid / rate), due after the hold; none when it earns nothing
/// (credits spent on the order earn nothing). Meant for the transaction
/// that marks the order fulfilled (the lifecycle's `Part::Earn`), so the
/// credit is written exactly when the order is fulfilled, once.
pub fn earn_writes(ctx: &Ctx, order: &OrderRecord) -> Result<Vec<Write>, ServiceError> {
    let rules = ctx.settings.credits;
    let amount = rules.earned(order.amount_due().amount);
    if amount <= 0 {
        return Ok(Vec::new());
    }
    let now = ctx.clock.now();
    let t = TransferRecord {
        id: earn_id(&order.order_id),
        user_id: order.user_id.clone(),
        email: order.email.clone(),
        origin: EntryKind::Earn,
        dir: Direction::In,
        amount,
        state: TransferState::Pending,
        reversed: false,
        order_id: Some(order.order_id.clone()),
        reason: format!("purchase of {}", order.product_id),
        actor: "fulfil".into(),
        created_at: now,
        due_at: Some(now.plus_millis(rules.hold_millis)),
    };
    ledger::open_writes(ctx, &t, false)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderCreditsDeactivated)]
pub struct DeactivateReport {
    pub order_id: String,
    /// voided, reversed, or unchanged (already done, or nothing earned).
    #[schema(value_type = String, pattern = "^(voided|reversed|unchanged)$")]
    pub credits: &'static str,
    pub amount: i64,
}

/// Marks the purchase inactive for credits: its pending credit is voided
/// (or, if none was written yet, it can never be), a posted one reversed.
pub async fn deactivate(ctx: &Ctx, id: &OrderId, actor: &str) -> Result<DeactivateReport, ServiceError> {
    let order_id = id.as_str();
    let order =
        orders::get(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    ctx.records.transact(vec![orders::credits_deactivated(order_id, actor)]).await?;
    ctx.faults.hit("credits.after_flag")?;
    let xid = earn_id(order_id);
    retry(format!("credits of order {order_id}"), || async {
        if let Some(outcome) = ledger::transition(ctx, &xid, Action::Deactivate, actor).await? {
            let amount = ledger::load(ctx, &xid).await?.map(|t| t.amount).unwrap_or(0);
            let credits = match outcome {
                Outcome::Wrote(EntryKind::Void) => "voided",
                Outcome::Wrote(_) => "reversed",
                Outcome::Unchanged(_) => "unchanged",
            };
            return Ok(Step::Done(DeactivateReport { order_id: order_id.into(), credits, amount }));
        }
        // Nothing earned yet: a voided, empty transfer in its place means
        // it never will be (earning needs the id to be free).
        let put =
            Write::Put { item: ledger::transfer_item(&tombstone(ctx, &order, actor))?, cond: Some(Cond::NotExists) };
        let mut tx = Tx::new();
        tx.push((), put);
        Ok(match tx.commit(ctx).await? {
            Commit::Done => Step::Done(DeactivateReport { order_id: order_id.into(), credits: "unchanged", amount: 0 }),
            Commit::Refused(()) => Step::Again,
        })
    })
    .await
}

/// The empty, voided earn transfer that keeps an order from ever earning.
fn tombstone(ctx: &Ctx, order: &OrderRecord, actor: &str) -> TransferRecord {
    TransferRecord {
        id: earn_id(&order.order_id),
        user_id: order.user_id.clone(),
        email: order.email.clone(),
        origin: EntryKind::Earn,
        dir: Direction::In,
        amount: 0,
        state: TransferState::Voided,
        reversed: false,
        order_id: Some(order.order_id.clone()),
        reason: "purchase deactivated before it earned".into(),
        actor: actor.into(),
        created_at: ctx.clock.now(),
        due_at: None,
    }
}

/// The writes that deactivate an order's credits inside its refund's
/// transaction, so a crash right after the refund cannot leave a posted
/// credit standing (nothing else would ever reverse it). Their conditions
/// fail when the transfer changed since it was read: the refund retries.
pub async fn refund_writes(ctx: &Ctx, order: &OrderRecord, actor: &str) -> Result<Vec<Write>, ServiceError> {
    match ledger::load(ctx, &earn_id(&order.order_id)).await? {
        Some(t) => {
            Ok(ledger::transition_writes(ctx, &t, Action::Deactivate, actor)?.map(|(_, w)| w).unwrap_or_default())
        }
        None => Ok(vec![Write::Put {
            item: ledger::transfer_item(&tombstone(ctx, order, actor))?,
            cond: Some(Cond::NotExists),
        }]),
    }
}

/// After a refund: the purchase is deactivated. Logged, not failed: the
/// refund stands, and the credits job voids a pending credit of a refunded
/// order on its own.
pub async fn on_refund(ctx: &Ctx, order_id: &str, actor: &str) {
    let done = match OrderId::parse(order_id) {
        Ok(id) => deactivate(ctx, &id, actor).await,
        Err(e) => Err(ServiceError::internal(anyhow::anyhow!("stored order id {order_id}: {e}"))),
    };
    if let Err(e) = done {
        tracing::error!(order_id, error = ?e, "could not deactivate the refunded purchase's credits");
    }
}
