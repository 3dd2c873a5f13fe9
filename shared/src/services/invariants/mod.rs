//! One checker for the invariants of DESIGN.md, read-only: conservation and
//! one owner (listings vs records vs live subscriptions), no oversell
//! (counters vs listings and holds), the stock ledger replaying to the
//! counters, credit accounts equal to their entries, no paid order left
//! without a subscription, backorder or refund, and no subscription ended by
//! a refund of anything but the order that created it. Tests run it after every
//! schedule; reconcile reports it after its repairs.
//!
//! Files an unfinished intent names are in flight: they are listed in the
//! report, not judged. A pass is only conclusive when the stock counters did
//! not move while it read (`settled`); otherwise it is tried again.
//!
//! It streams the listings and file records (memory grows with assigned
//! files and live subscriptions, not with stock) and replays the ledger from
//! the checkpoint reconcile keeps (see ledger.rs for what that trusts).

mod books;
mod files;
mod ledger;
mod owners;
#[cfg(test)]
mod tests;

use serde::Serialize;

use super::stock::read_counts;
use super::store::stock::CountsRecord;
use super::{Ctx, ServiceError};
use crate::domain::StockCounts;

pub use files::FileWalk;
pub use ledger::LedgerCheckpoint;

/// Which invariant a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    Conservation,
    OneOwner,
    NoOversell,
    Ledger,
    Credits,
    PaidOrders,
    /// A refund reached past what its order bought.
    Refunds,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Violation {
    pub invariant: Invariant,
    pub detail: String,
}

/// What one check found. No violations means every invariant held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvariantReport {
    /// The first `MAX_VIOLATIONS` found.
    pub violations: Vec<Violation>,
    /// Violations found beyond those listed.
    pub more: u64,
    /// Unfinished intents ("assign ORDER: files"), whose files were not judged.
    pub in_flight: Vec<String>,
    /// The stock counters did not move while the check read (so it is conclusive).
    pub settled: bool,
    /// Storage keys, file records and credit accounts read.
    pub files_listed: u64,
    pub file_records: u64,
    /// Ledger entries the replay covers (up to the checkpoint, and read since).
    pub ledger_entries: u64,
    /// Ledger entries read by this check.
    pub ledger_read: u64,
    /// The checkpoint entry the replay started after (none: from the start).
    pub ledger_from: Option<String>,
    pub credit_accounts: u64,
}

impl InvariantReport {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    fn add(&mut self, invariant: Invariant, detail: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(Violation { invariant, detail });
        } else {
            self.more += 1;
        }
    }
}

pub const MAX_VIOLATIONS: usize = 100;
const PASSES: usize = 3;
const PAGE: usize = 1000;

/// A walk over the files another pass made, and the counters read before it
/// began (reconcile hands over its own when it changed nothing).
pub struct Walked {
    pub counts: CountsRecord,
    pub walk: FileWalk,
}

/// Checks every invariant, replaying the ledger from its checkpoint.
/// Retries a pass during which stock moved; the last pass is returned
/// either way, with `settled` telling which it was.
pub async fn check(ctx: &Ctx) -> Result<InvariantReport, ServiceError> {
    Ok(passes(ctx, true, None).await?.0)
}

/// As `check`, replaying the whole ledger.
pub async fn check_full(ctx: &Ctx) -> Result<InvariantReport, ServiceError> {
    Ok(passes(ctx, false, None).await?.0)
}

/// As `check`, then keeps the checkpoint the replay earned (reconcile). The
/// first pass judges `walked`, when given, instead of walking the files
/// again; it is conclusive only if stock did not move since that walk began.
pub async fn check_and_checkpoint(ctx: &Ctx, walked: Option<Walked>) -> Result<InvariantReport, ServiceError> {
    let (report, earned) = passes(ctx, true, walked).await?;
    if let Some(cp) = earned
        && report.ledger_read > 0
    {
        ledger::save(ctx, &cp).await?;
    }
    Ok(report)
}

async fn passes(
    ctx: &Ctx,
    from_checkpoint: bool,
    mut walked: Option<Walked>,
) -> Result<(InvariantReport, Option<LedgerCheckpoint>), ServiceError> {
    let mut last = (InvariantReport::default(), None);
    for _ in 0..PASSES {
        let Walked { counts: before, walk } = match walked.take() {
            Some(w) => w,
            None => {
                let counts = read_counts(ctx).await?;
                Walked { counts, walk: files::walk(ctx).await? }
            }
        };
        let mut report = InvariantReport::default();
        let (seen, flight) = walk.conclude(ctx, &mut report).await?;
        books::stock(ctx, &before, &seen, &mut report).await?;
        let earned = ledger::replay(ctx, &before, from_checkpoint, &mut report).await?;
        books::credits(ctx, &mut report).await?;
        books::orders(ctx, &seen.live, &mut report).await?;
        // Intents that began meanwhile make the file checks inconclusive too.
        let after = read_counts(ctx).await?;
        let flight_after = files::in_flight(ctx, &mut Vec::new()).await?;
        report.settled = after.version == before.version && flight_after.is_subset(&flight);
        if report.settled {
            return Ok((report, earned));
        }
        last = (report, earned);
    }
    Ok(last)
}

fn show(c: &StockCounts) -> String {
    format!(
        "unused {} reserved {} assigned {} banned {} frozen {}",
        c.unused, c.reserved, c.assigned, c.banned, c.frozen
    )
}
