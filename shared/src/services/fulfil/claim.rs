//! Step 1 of fulfilment: claim free files for the order in one commit (the
//! intent, the files taken, the hold converted, the sale ledger), so a file
//! can be claimed only once.

use crate::domain::{LedgerKind, Location, OrderStatus, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Query, Write};
use crate::services::items::{from_item, json, to_item};
use crate::services::model::{FileRecord, IntentRecord, OrderRecord};
use crate::services::orders::OrderBundle;
use crate::services::stock::{StockEntry, delta};
use crate::services::tx::{CommitError, commit};
use crate::services::{Ctx, ServiceError, keys};

pub(super) enum Claim {
    Claimed(IntentRecord),
    /// Not enough stock for this order.
    Short,
    /// Someone else moved the order or claimed it: look again.
    Raced,
}

const CLAIM_ATTEMPTS: usize = 10;

pub(super) async fn claim(ctx: &Ctx, b: &OrderBundle) -> Result<Claim, ServiceError> {
    let order = &b.order;
    let wanted = order.files as usize;
    let mut taken: Vec<String> = Vec::new();
    let mut use_hold = b.hold.is_some();
    for _ in 0..CLAIM_ATTEMPTS {
        let free = free_files(ctx, wanted + taken.len() + 5, &taken).await?;
        if free.len() < wanted {
            return Ok(Claim::Short);
        }
        let files: Vec<String> = free.into_iter().take(wanted).collect();
        let now = ctx.clock.now();
        let intent = IntentRecord {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            files: files.clone(),
            created_at: now,
            done: false,
        };
        let (writes, first_file) = claim_writes(order, &intent, use_hold, now)?;
        let entries = files
            .iter()
            .map(|f| StockEntry {
                kind: LedgerKind::Sale,
                file: Some(f.clone()),
                change: delta(-1, if use_hold { -1 } else { 0 }, 1),
                reason: format!("fulfil {}", order.product_id),
                reference: order.order_id.clone(),
                actor: "fulfil".into(),
            })
            .collect();
        // Without a hold (it lapsed before the payment landed) the order may
        // only take what nobody else holds.
        let need = if use_hold { 0 } else { wanted as i64 };
        let check = |c: &crate::domain::StockCounts| {
            if c.available() < need {
                Err(ServiceError::InsufficientStock { available: c.available(), wanted: order.files })
            } else {
                Ok(())
            }
        };
        match commit(ctx, writes, entries, check).await {
            Ok(_) => return Ok(Claim::Claimed(intent)),
            Err(CommitError::Service(ServiceError::InsufficientStock { .. })) => return Ok(Claim::Short),
            Err(CommitError::Service(e)) => return Err(e),
            Err(CommitError::Condition(0 | 1)) => return Ok(Claim::Raced),
            Err(CommitError::Condition(2)) if use_hold => use_hold = false, // the hold lapsed meanwhile
            Err(CommitError::Condition(i)) => {
                if let Some(f) = files.get(i.saturating_sub(first_file)) {
                    taken.push(f.clone());
                }
            }
        }
    }
    Err(ServiceError::Conflict(format!("could not claim files for {}; will retry", order.order_id)))
}

/// Intent (0), order guard (1), hold (2, when used), then one write per file.
fn claim_writes(
    order: &OrderRecord,
    intent: &IntentRecord,
    use_hold: bool,
    now: Timestamp,
) -> Result<(Vec<Write>, usize), ServiceError> {
    let id = &order.order_id;
    let gsi = (keys::INTENTS_INDEX.to_string(), keys::sort_at(now, id));
    let mut writes = vec![
        Write::Put { item: to_item(&keys::intent(id), intent, Some(gsi), None)?, cond: Some(Cond::NotExists) },
        Write::Check {
            key: keys::order(id),
            cond: Cond::In("status".into(), vec![json(&OrderStatus::Paid), json(&OrderStatus::Backordered)]),
        },
    ];
    if use_hold {
        writes.push(Write::Delete { key: keys::hold(id), cond: Some(Cond::Exists) });
    }
    let first_file = writes.len();
    for f in &intent.files {
        writes.push(Write::Update {
            key: keys::file(f),
            changes: vec![
                Change::Set("location".into(), json(&Location::Assigned)),
                Change::Set("user_id".into(), order.user_id.clone().into()),
                Change::Set("order_id".into(), id.clone().into()),
                Change::Set("updated_at".into(), json(&now)),
                Change::Set(GSI1PK.into(), keys::files_at("assigned").into()),
                Change::Set(GSI1SK.into(), f.clone().into()),
            ],
            cond: Some(Cond::eq("location", "unused")),
        });
    }
    Ok((writes, first_file))
}

/// Names of files the records say are in unused/, skipping `skip`.
async fn free_files(ctx: &Ctx, limit: usize, skip: &[String]) -> Result<Vec<String>, ServiceError> {
    let q = Query::new(Index::Gsi1, keys::files_at("unused")).limit(limit);
    let page = ctx.records.query(q).await?;
    let mut out = Vec::new();
    for item in page.items {
        let f: FileRecord = from_item(item)?;
        // A record of something that is not stock (adopted before the stock
        // pattern existed) is never sold; reconcile retires it.
        let stock = ctx.settings.stock_pattern.stock(&f.name).is_some();
        if f.location == Location::Unused && stock && !skip.contains(&f.name) {
            out.push(f.name);
        }
    }
    Ok(out)
}
