//! One checker for the invariants of DESIGN.md, read-only: conservation and
//! one owner (listings vs records vs live subscriptions), no oversell
//! (counters vs listings and holds), the stock ledger replaying to the
//! counters, credit accounts equal to their entries, and no paid order left
//! without a subscription, backorder or refund. Tests run it after every
//! schedule; reconcile reports it after its repairs.
//!
//! Files an unfinished intent names are in flight: they are listed in the
//! report, not judged. A pass is only conclusive when the stock counters did
//! not move while it read (`settled`); otherwise it is tried again.

mod books;
mod files;
#[cfg(test)]
mod tests;

use serde::Serialize;

use super::stock::read_counts;
use super::{Ctx, ServiceError};
use crate::ports::{Item, Query};

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
    /// Storage keys, file records, ledger entries and credit accounts read.
    pub files_listed: u64,
    pub file_records: u64,
    pub ledger_entries: u64,
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

/// Checks every invariant. Retries a pass during which stock moved; the last
/// pass is returned either way, with `settled` telling which it was.
pub async fn check(ctx: &Ctx) -> Result<InvariantReport, ServiceError> {
    let mut last = InvariantReport::default();
    for _ in 0..PASSES {
        let before = read_counts(ctx).await?;
        let mut report = InvariantReport::default();
        let flight = files::in_flight(ctx, &mut report).await?;
        let seen = files::check(ctx, &flight, &mut report).await?;
        books::stock(ctx, &before, &seen, &mut report).await?;
        books::credits(ctx, &mut report).await?;
        books::orders(ctx, &mut report).await?;
        // Intents that began meanwhile make the file checks inconclusive too.
        let after = read_counts(ctx).await?;
        let mut again = InvariantReport::default();
        let flight_after = files::in_flight(ctx, &mut again).await?;
        report.settled = after.version == before.version && flight_after.is_subset(&flight);
        if report.settled {
            return Ok(report);
        }
        last = report;
    }
    Ok(last)
}

/// Every item of a query, page by page.
async fn each(ctx: &Ctx, q: Query, mut f: impl FnMut(Item) -> Result<(), ServiceError>) -> Result<(), ServiceError> {
    let mut cursor = None;
    loop {
        let page = ctx.records.query(q.clone().after(cursor)).await?;
        for item in page.items {
            f(item)?;
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}
