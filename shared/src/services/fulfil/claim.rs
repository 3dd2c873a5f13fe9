//! Step 1 of fulfilment: claim free files for the order in one commit (the
//! intent, the files taken, the hold converted, the sale ledger), so a file
//! can be claimed only once.

use std::sync::Mutex;

use crate::domain::{LedgerKind, Location, OrderStatus, StockCounts, Timestamp};
use crate::ports::{Cond, Write};
use crate::services::model::{IntentRecord, OrderRecord};
use crate::services::orders::OrderBundle;
use crate::services::retry::{Step, retry};
use crate::services::stock::{StockEntry, delta};
use crate::services::store::{files, orders};
use crate::services::tx::{Commit, Tx};
use crate::services::{Ctx, ServiceError};

use super::pick::{SPREAD, pick};

pub(super) enum Claim {
    Claimed(IntentRecord),
    /// Not enough stock for this order.
    Short,
    /// Someone else moved the order or claimed it: look again.
    Raced,
}

/// The writes of a claim, by what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The intent: claimed already.
    Intent,
    /// The order, still paid or backordered.
    Order,
    /// The hold it converts: lapsed meanwhile.
    Hold,
    /// The `n`th file claimed: someone took it first.
    File(usize),
}

/// What the tries so far learned: files taken by others, and whether the
/// order's hold is still there to convert.
struct Tried {
    taken: Vec<String>,
    use_hold: bool,
}

/// `paid_only`: the order must still be paid (not backordered), for a
/// bundle carried by the queue message instead of read now.
pub(super) async fn claim(ctx: &Ctx, b: &OrderBundle, paid_only: bool) -> Result<Claim, ServiceError> {
    let order = &b.order;
    let wanted = order.files as usize;
    let tried = Mutex::new(Tried { taken: Vec::new(), use_hold: b.hold.is_some() });
    let what = format!("the files for {}", order.order_id);
    retry(what, || async {
        let (taken, use_hold) = {
            let t = tried.lock().map_err(|_| ServiceError::internal(anyhow::anyhow!("claim state poisoned")))?;
            (t.taken.clone(), t.use_hold)
        };
        let mark = ctx.claiming.mark()?;
        let free = free_files(ctx, wanted + taken.len() + SPREAD, &taken).await?;
        if free.len() < wanted {
            return Ok(Step::Done(Claim::Short));
        }
        // Held until the commit below is over, so claims here pick others.
        let picked = pick(&ctx.claiming, &order.order_id, taken.len(), mark, free, wanted)?;
        let files = picked.files.clone();
        let now = ctx.clock.now();
        let intent = IntentRecord {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            files: files.clone(),
            created_at: now,
            done: false,
        };
        let mut tx = claim_tx(order, &intent, use_hold, paid_only, now)?;
        for f in &files {
            tx.stock(StockEntry {
                kind: LedgerKind::Sale,
                file: Some(f.clone()),
                change: delta(-1, if use_hold { -1 } else { 0 }, 1),
                reason: format!("fulfil {}", order.product_id),
                reference: order.order_id.clone(),
                actor: "fulfil".into(),
            });
        }
        // Without a hold (it lapsed before the payment landed) the order may
        // only take what nobody else holds.
        let (need, ordered) = (if use_hold { 0 } else { wanted as i64 }, order.files);
        tx.check(move |c: &StockCounts| {
            if c.available() < need {
                Err(ServiceError::InsufficientStock { available: c.available(), wanted: ordered })
            } else {
                Ok(())
            }
        });
        let refused = match tx.commit(ctx).await {
            Ok(Commit::Done) => {
                picked.committed();
                return Ok(Step::Done(Claim::Claimed(intent)));
            }
            Err(ServiceError::InsufficientStock { .. }) => return Ok(Step::Done(Claim::Short)),
            Err(e) => return Err(e),
            Ok(Commit::Refused(Part::Intent | Part::Order)) => return Ok(Step::Done(Claim::Raced)),
            Ok(Commit::Refused(part)) => part,
        };
        let mut t = tried.lock().map_err(|_| ServiceError::internal(anyhow::anyhow!("claim state poisoned")))?;
        match refused {
            Part::Hold => t.use_hold = false,
            Part::File(n) => t.taken.extend(files.get(n).cloned()),
            Part::Intent | Part::Order => {}
        }
        Ok(Step::Again)
    })
    .await
}

/// The intent, the order guard, the hold (when used), then one write per file.
fn claim_tx(
    order: &OrderRecord,
    intent: &IntentRecord,
    use_hold: bool,
    paid_only: bool,
    now: Timestamp,
) -> Result<Tx<Part>, ServiceError> {
    let id = &order.order_id;
    let mut tx = Tx::new();
    tx.push(Part::Intent, orders::put_intent(intent)?);
    let paid = match paid_only {
        true => orders::is_status(OrderStatus::Paid),
        false => Cond::Or(vec![orders::is_status(OrderStatus::Paid), orders::is_status(OrderStatus::Backordered)]),
    };
    tx.push(Part::Order, Write::Check { key: orders::key(id), cond: paid });
    if use_hold {
        tx.push(Part::Hold, orders::delete_hold(id));
    }
    for (n, f) in intent.files.iter().enumerate() {
        tx.push(Part::File(n), files::assign(f, &order.user_id, id, now)?);
    }
    Ok(tx)
}

/// Names of files the records say are in unused/, skipping `skip`.
async fn free_files(ctx: &Ctx, limit: usize, skip: &[String]) -> Result<Vec<String>, ServiceError> {
    let page = files::at(ctx, Location::Unused, limit).next_page().await?.unwrap_or_default();
    let mut out = Vec::new();
    for f in page {
        // A record of something that is not stock (adopted before the stock
        // pattern existed) is never sold; reconcile retires it.
        let stock = ctx.settings.stock_pattern.stock(&f.name).is_some();
        if f.location == Location::Unused && stock && !skip.contains(&f.name) {
            out.push(f.name);
        }
    }
    Ok(out)
}
