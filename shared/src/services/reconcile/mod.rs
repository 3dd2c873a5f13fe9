//! Reconcile: storage is the truth for where a file is. One pass adopts new
//! stock, makes records follow storage, removes duplicate copies, finishes
//! stale intents, re-queues lost paid orders, proves the counters equal to
//! the listings and raises low-stock alerts.
//!
//! It streams (pages of 1,000 on both sides; assigned/, sorted by user, is
//! held up to 100,000 names at a time against the index, so memory stays
//! bounded) and changes records only through conditional writes and
//! `stock::commit`, so two runs at once, or a run beside fulfilment, repair
//! each thing once. Files an unfinished intent owns are left to that intent.

mod assigned;
mod counters;
mod found;
mod intents;
#[cfg(test)]
mod late_tests;
mod par;
mod scan;
mod settle;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde::Serialize;

use super::alerts;
use super::invariants::{FileWalk, Walked};
use super::jobs::{StepOutcome, StepReport, Steps};
use super::stock::{self, StockEntry};
use super::store::merge::Stock;
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError, jobs};
use crate::domain::{LedgerKind, Location, StockCounts};

pub use intents::STALE_AFTER_MILLIS;

/// Listing and query page size (S3's maximum).
const PAGE: usize = 1000;

#[derive(Clone, Debug)]
pub struct Options {
    /// Alert when available stock covers fewer than this many purchases of
    /// a product.
    pub low_stock_purchases: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { low_stock_purchases: alerts::DEFAULT_LOW_STOCK_PURCHASES }
    }
}

/// What one run found and did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReconcileReport {
    /// Storage keys listed (every prefix).
    pub scanned: u64,
    /// Files under unused/ with no record, now stock (ledger kind restock).
    pub adopted: u64,
    /// Keys that are not stock (not a valid name, not matching the stock
    /// pattern, a journal with no session file beside it): never adopted,
    /// counted or sold, left where they are.
    pub rejected: u64,
    /// The first of them (full keys), for staff.
    pub rejected_keys: Vec<String>,
    /// Files found where their record does not say (before repair).
    pub drift: u64,
    pub backorders_queued: u64,
    /// Records written to follow storage: moved, created, or marked lost;
    /// and files a live subscription lists, found in unused/ and moved back
    /// to their buyer (a late move), whose records stay.
    pub repaired: u64,
    /// ASSIGNED records whose file was not under their user.
    pub ghosts: u64,
    /// Records whose file is in no prefix (removed; tombstone and alert).
    pub lost: u64,
    /// Files under assigned/ with no record.
    pub orphans: u64,
    /// Orphans a live subscription lists, now recorded.
    pub attached: u64,
    /// Orphans nobody owns (first few), for staff.
    pub orphan_keys: Vec<String>,
    /// Extra copies of a file deleted.
    pub duplicates: u64,
    /// Intents older than `STALE_AFTER_MILLIS` that were finished.
    pub stale_intents: u64,
    /// Drifted files left alone because an unfinished intent owns them.
    pub in_flight: u64,
    pub requeued: u64,
    /// Nothing moved during the pass, so the counters could be compared.
    pub counters_checked: bool,
    /// The counters differed from the listings and were corrected.
    pub counters_fixed: bool,
    pub low_stock_alerts: u64,
    /// Items that failed and were skipped (logged); the next run retries.
    pub errors: u64,
    /// The invariant checker's findings after this run's repairs.
    pub invariants: super::invariants::InvariantReport,
    /// Every step, in order, and whether it went through. A failed step's
    /// counts stay 0; the steps after it still ran.
    pub steps: Vec<StepOutcome>,
}

impl StepReport for ReconcileReport {
    fn steps(&self) -> &[StepOutcome] {
        &self.steps
    }
}

impl ReconcileReport {
    /// Changes this run made to records, files or counters.
    pub fn repairs(&self) -> u64 {
        self.adopted
            + self.repaired
            + self.attached
            + self.duplicates
            + self.stale_intents
            + u64::from(self.counters_fixed)
    }
}

/// Orphans remembered per run for attaching (the rest wait for the next run).
const MAX_ORPHANS: usize = 10_000;
const ORPHAN_SAMPLE: usize = 20;

/// The state of one run.
struct Run<'a> {
    ctx: &'a Ctx,
    actor: &'a str,
    report: ReconcileReport,
    /// Storage keys whose record points at them, per location.
    matched: StockCounts,
    /// Our successful stock commits (each bumps the counters' version once).
    own_commits: u64,
    orphans: HashSet<(String, String)>,
    /// Stock came back to unused/: backorders get a try.
    stock_returned: bool,
    /// The run moved a file itself (back to its buyer, or a lost one back to
    /// stock), so the listings it read may not match the counters.
    storage_moved: bool,
    /// The invariant checker's walk, fed from this run's listings and index
    /// pages; handed over only if the run changed nothing.
    walked: Option<Walked>,
}

impl<'a> Run<'a> {
    fn new(ctx: &'a Ctx, actor: &'a str) -> Self {
        Run {
            ctx,
            actor,
            report: ReconcileReport::default(),
            matched: StockCounts::default(),
            own_commits: 0,
            orphans: HashSet::new(),
            stock_returned: false,
            storage_moved: false,
            walked: None,
        }
    }

    /// The checker's walk, dropped at the run's first change (what it holds
    /// would be judged again anyway, and a first run would hold every file).
    fn walk(&mut self) -> Option<&mut FileWalk> {
        if !self.unchanged() {
            self.walked = None;
        }
        self.walked.as_mut().map(|w| &mut w.walk)
    }

    /// Wrote, moved and deleted nothing, so what it read is still what there
    /// is, unless stock moved meanwhile (the checker sees that).
    fn unchanged(&self) -> bool {
        let r = &self.report;
        self.own_commits == 0 && !self.storage_moved && r.repairs() == 0 && r.in_flight == 0
    }

    /// The checker's walk, if the run changed nothing.
    fn unchanged_walk(&mut self) -> Option<Walked> {
        if self.unchanged() { self.walked.take() } else { None }
    }

    /// Commits a repair; a refused one means someone changed it first.
    async fn commit<T: Copy>(&mut self, tx: Tx<T>) -> Result<Commit<T>, ServiceError> {
        let done = tx.commit(self.ctx).await?;
        if done.is_done() {
            self.own_commits += 1;
        }
        Ok(done)
    }

    /// What a listing read: keys scanned, and those that are not stock.
    fn listed(&mut self, stock: &mut Stock<'_>) {
        let n = std::mem::take(&mut stock.listed);
        self.report.scanned += n;
        if let Some(walk) = self.walk() {
            walk.keys_listed(n);
        }
        for (key, why) in std::mem::take(&mut stock.rejected) {
            self.reject(&key, &why);
        }
    }

    fn entry(&self, kind: LedgerKind, file: &str, change: StockCounts, reason: String) -> StockEntry {
        StockEntry {
            kind,
            file: Some(file.to_string()),
            change,
            reason,
            reference: "reconcile".into(),
            actor: self.actor.to_string(),
        }
    }

    /// A listed key that is not stock: reported, left alone.
    fn reject(&mut self, key: &str, why: &str) {
        self.report.rejected += 1;
        if self.report.rejected_keys.len() < super::listed::REJECTED_SAMPLE {
            self.report.rejected_keys.push(key.to_string());
        }
        tracing::warn!(%key, %why, "not stock; left where it is");
    }

    fn matched_at(&mut self, loc: Location) {
        self.matched = stock::add(self.matched, one(loc, 1));
    }
}

/// A count change of `n` at one location.
fn one(loc: Location, n: i64) -> StockCounts {
    let mut c = StockCounts::default();
    match loc {
        Location::Unused => c.unused = n,
        Location::Assigned => c.assigned = n,
        Location::Banned => c.banned = n,
        Location::Frozen => c.frozen = n,
    }
    c
}

/// One run. Every step runs even when one before it failed; `steps` in the
/// report says which did (the scheduled run then fails, after all of them).
pub async fn run(ctx: &Ctx, actor: &str) -> ReconcileReport {
    run_with(ctx, actor, &Options::default()).await
}

pub async fn run_with(ctx: &Ctx, actor: &str, options: &Options) -> ReconcileReport {
    let mut steps = Steps::default();
    let mut run = Run::new(ctx, actor);
    let repaired = steps.run("repair", repair(&mut run)).await.is_some();
    let walked = if repaired { run.unchanged_walk() } else { None };
    let stock_returned = run.stock_returned;
    let mut report = run.report;
    report.requeued = steps.run("requeue_paid", jobs::requeue_paid(ctx)).await.unwrap_or(0);
    if stock_returned {
        steps.run("fill_replacements", super::adjust::fill_waiting(ctx)).await;
        report.backorders_queued = steps.run("queue_backorders", jobs::queue_backorders(ctx)).await.unwrap_or(0);
    }
    steps.run("order_index", super::store::order_index::backfill(ctx)).await;
    steps.run("ledger_index", super::store::ledger_index::backfill(ctx)).await;
    let low_stock = alerts::check_low_stock(ctx, options.low_stock_purchases);
    report.low_stock_alerts = steps.run("low_stock_alerts", low_stock).await.unwrap_or(0);
    if let Some(invariants) = steps.run("invariants", super::invariants::check_and_checkpoint(ctx, walked)).await {
        if !invariants.ok() {
            tracing::error!(violations = ?invariants.violations, "invariants broken after reconcile");
        }
        super::ops::invariants_checked(ctx, &invariants.violations).await;
        report.invariants = invariants;
    }
    report.steps = steps.finish();
    super::ops::job_ran(ctx, "reconcile", &report.steps).await;
    if report.repairs() + report.orphans + report.in_flight + report.errors > 0 {
        tracing::info!(?report, "reconcile");
    }
    report
}

/// Storage against records: its parts depend on one another (the counters
/// are compared with what the scans matched), so the first failure ends it.
async fn repair(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    ctx.faults.hit("reconcile.repair")?;
    // Finish stale work first, so its files are settled before the scan.
    intents::finish_stale(run).await?;
    let start = stock::read_counts(ctx).await?;
    let start_version = start.version;
    let walk = FileWalk::open_walk(ctx).await?;
    let pending_before = walk.intents_open();
    run.walked = Some(Walked { counts: start, walk });
    for loc in [Location::Unused, Location::Banned, Location::Frozen] {
        scan::location(run, loc).await?;
    }
    assigned::scan(run).await?;
    assigned::attach_orphans(run).await?;
    assigned::find_ghosts(run).await?;
    let pending_after = intents::pending(ctx).await?;
    let quiet = pending_before == 0 && pending_after == 0 && run.report.in_flight == 0 && !run.storage_moved;
    counters::verify(run, start_version, quiet).await
}
