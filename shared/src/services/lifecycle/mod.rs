//! The order lifecycle in one place. Every change of an order's status goes
//! through `apply`: it checks the domain's table (`can_move_to`), writes the
//! status, adds what the move implies, commits all of it through the one
//! stock-aware path, then runs the after-commit effects (`effects.rs`).
//!
//! Every move records its event (`order.{status}`) in the same commit.
//!
//! | the order becomes | also in the same commit | after it |
//! |---|---|---|
//! | no longer open | its limit slots given back | |
//! | expired / failed | its hold released (ledger: release) | credits spend voided; invoice closed on lapse |
//! | paid | paid late: its credits charged again if their spend was voided | credits spend posted; fulfilment queued |
//! | fulfilled | the credit it earns, the caller's event | |
//! | refunded | what it bought taken back (`refund.rs`), its credits ended, its hold released; an ops alert if it ended a subscription later orders add to (`later.rs`) | credits settled; files queued back (or moved by the caller) |
//!
//! Callers: webhooks (payment events), checkout (credits paid it all, no
//! invoice), holds (a hold lapsed), refunds (staff), fulfil and its add-ons.

mod effects;
pub mod later;
mod refund;

pub(crate) use effects::close_invoice;
pub use refund::{Returning, bought_files, return_claim};

use super::events::{self, Event};
use super::stock::{StockEntry, delta};
use super::store::limits;
use super::store::orders::{self, Facts, OrderBundle};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError, credits};
use crate::domain::{LedgerKind, OrderStatus, Timestamp};
use crate::ports::Write;

/// What a write of a move is, so a refused commit is read in these terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The order's status guard: it moved since it was read (or, on a late
    /// payment, the credits spend it was read with did).
    Order,
    /// What the move implies (limits, hold, what a refund takes back).
    Implied,
    /// The record of the provider's event: this event was applied before.
    Receipt,
    /// The caller's own writes (a subscription, a payment record).
    Caller,
    /// The credit a fulfilment earns: its transfer exists (the purchase was
    /// deactivated first), so the order is fulfilled without it.
    Earn,
    /// A late payment's charge of the credits the order was priced with:
    /// refused when the buyer no longer has them (spent on another order).
    Credits,
}

/// What becomes of the files a refund takes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilesBack {
    /// The caller moves them before it returns (staff see the outcome).
    Now,
    /// Queued for the fulfilment worker (a webhook answers at once).
    Queued,
}

/// One move of an order, built by the caller and applied once.
pub struct Move<'a> {
    pub bundle: &'a OrderBundle,
    pub to: OrderStatus,
    pub actor: &'a str,
    /// Why, for the ledger line of a released hold.
    pub reason: String,
    pub facts: Facts,
    /// The caller's writes that commit with the move.
    pub writes: Vec<(Part, Write)>,
    /// Stock the caller's writes book (ledger lines).
    pub entries: Vec<StockEntry>,
    /// An event of the caller's, recorded with the move.
    pub notify: Option<Event>,
    pub files_back: FilesBack,
    /// The hold lapsed: the provider's invoice is closed too.
    pub close_invoice: bool,
    /// A fulfilment's files and the subscription's end after it (its event says).
    pub delivered: Option<(Vec<String>, Timestamp)>,
}

impl<'a> Move<'a> {
    pub fn new(bundle: &'a OrderBundle, to: OrderStatus, actor: &'a str, reason: impl Into<String>) -> Self {
        Move {
            bundle,
            to,
            actor,
            reason: reason.into(),
            facts: Facts::default(),
            writes: Vec::new(),
            entries: Vec::new(),
            notify: None,
            files_back: FilesBack::Queued,
            close_invoice: false,
            delivered: None,
        }
    }

    pub fn write(mut self, part: Part, w: Write) -> Self {
        self.writes.push((part, w));
        self
    }
}

/// How a move ended.
#[derive(Debug)]
pub enum Moved {
    Done(Done),
    /// The domain does not allow this move from the order's status.
    NotAllowed,
    /// A write's condition failed; nothing was written.
    Refused(Part),
}

/// What a committed move left to report.
#[derive(Debug, Default)]
pub struct Done {
    /// Files a refund sends back: queued, or for the caller to move now
    /// (`FilesBack::Now`, then `Returning::move_back`).
    pub returning: Option<Returning>,
}

/// Applies the move: checks it, commits it with everything it implies,
/// then runs its effects.
pub async fn apply(ctx: &Ctx, m: Move<'_>) -> Result<Moved, ServiceError> {
    let from = m.bundle.order.status;
    if !from.can_move_to(m.to) {
        return Ok(Moved::NotAllowed);
    }
    let (tx, returning) = build(ctx, &m, true).await?;
    let committed = match tx.commit(ctx).await? {
        // A deactivated purchase earns nothing; the order is still fulfilled.
        Commit::Refused(Part::Earn) => build(ctx, &m, false).await?.0.commit(ctx).await?,
        other => other,
    };
    if let Commit::Refused(part) = committed {
        return Ok(Moved::Refused(part));
    }
    tracing::info!(order_id = %m.bundle.order.order_id, %from, to = %m.to, actor = m.actor, "order moved");
    effects::after(ctx, &m, returning.as_ref()).await?;
    Ok(Moved::Done(Done { returning }))
}

/// The move's transaction: the status write, what it implies, the
/// caller's writes.
async fn build(ctx: &Ctx, m: &Move<'_>, earn: bool) -> Result<(Tx<Part>, Option<Returning>), ServiceError> {
    let order = &m.bundle.order;
    let (from, to) = (order.status, m.to);
    let mut tx = Tx::new();
    tx.push(Part::Order, orders::moved(&order.order_id, from, to, ctx.clock.now(), &m.facts)?);
    for (part, w) in &m.writes {
        tx.push(*part, w.clone());
    }
    for e in &m.entries {
        tx.stock(e.clone());
    }
    if from.is_open() && !to.is_open() {
        tx.extend(Part::Implied, limits::give_back(order));
    }
    if let (Some(hold), OrderStatus::Expired | OrderStatus::Failed | OrderStatus::Refunded) = (&m.bundle.hold, to) {
        tx.push(Part::Implied, orders::delete_hold(&order.order_id));
        tx.stock(release_entry(&order.order_id, hold.count, &m.reason, m.actor));
    }
    for event in events_of(m) {
        tx.push(Part::Implied, events::record(ctx, &event)?);
    }
    let mut returning = None;
    match to {
        OrderStatus::Refunded => {
            returning = refund::take_back_writes(ctx, m.bundle, &mut tx, m.actor).await?;
            // The purchase's credits end in the same commit.
            tx.extend(Part::Implied, credits::refund_writes(ctx, order, m.actor).await?);
        }
        OrderStatus::Fulfilled if earn => {
            tx.extend(Part::Earn, credits::earn_writes(ctx, order)?);
        }
        // Paid late: the credits its price counted on may have gone back.
        OrderStatus::Paid if matches!(from, OrderStatus::Expired | OrderStatus::Failed) => {
            match credits::late_writes(ctx, order).await? {
                credits::LateCharge::Nothing => {}
                credits::LateCharge::StillHeld(check) => {
                    tx.push(Part::Order, check);
                }
                credits::LateCharge::Charge(writes) => {
                    tx.extend(Part::Credits, writes);
                }
            }
        }
        _ => {}
    }
    Ok((tx, returning))
}

/// The events a move records with itself: its own (`order.{status}`), an
/// overpayment, and the caller's.
fn events_of(m: &Move<'_>) -> Vec<Event> {
    let o = &m.bundle.order;
    let (order_id, email) = (o.order_id.clone(), o.email.clone());
    let mut out = Vec::new();
    out.extend(match m.to {
        OrderStatus::Paid => Some(Event::OrderPaid {
            order_id: order_id.clone(),
            email: email.clone(),
            product_id: o.product_id.clone(),
            amount: o.amount_due().to_decimal().normalize().to_string(),
            amount_minor: o.amount_due().amount,
            currency: o.price.currency.as_str().to_string(),
        }),
        OrderStatus::PartiallyPaid => Some(Event::OrderPartiallyPaid {
            order_id: order_id.clone(),
            email: email.clone(),
            missing: m.facts.missing.clone(),
            reserved_until: o.reserved_until.rfc3339(),
        }),
        OrderStatus::Fulfilled => Some(Event::OrderFulfilled {
            order_id: order_id.clone(),
            email: email.clone(),
            product_id: o.product_id.clone(),
            subscription_id: m.facts.subscription_id.clone(),
            files: m.delivered.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
            valid_until: m.delivered.as_ref().map(|d| d.1.rfc3339()),
        }),
        OrderStatus::Backordered => Some(Event::OrderBackordered {
            order_id: order_id.clone(),
            files: o.files,
            product_id: o.product_id.clone(),
            email: email.clone(),
        }),
        OrderStatus::Refunded => Some(Event::OrderRefunded {
            order_id: order_id.clone(),
            email: email.clone(),
            method: m.facts.refund_method.clone(),
        }),
        OrderStatus::Expired => Some(Event::OrderExpired { order_id: order_id.clone(), email: email.clone() }),
        OrderStatus::Failed => Some(Event::OrderFailed { order_id: order_id.clone(), email: email.clone() }),
        OrderStatus::Pending | OrderStatus::Confirming => None,
    });
    if let Some(excess) = &m.facts.overpaid {
        out.push(Event::OrderOverpaid { order_id, excess: excess.clone(), received: m.facts.received.clone() });
    }
    out.extend(m.notify.clone());
    out
}

/// The ledger line for stock a hold gives back.
pub fn release_entry(order_id: &str, count: u32, reason: &str, actor: &str) -> StockEntry {
    StockEntry {
        kind: LedgerKind::Release,
        file: None,
        change: delta(0, -i64::from(count), 0),
        reason: reason.to_string(),
        reference: order_id.to_string(),
        actor: actor.to_string(),
    }
}

#[cfg(test)]
mod tests;
