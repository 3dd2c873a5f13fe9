//! The counters must equal the listings (invariant 1). The pass counted, per
//! location, the files whose record points at them. That count can only be
//! compared when nothing else moved meanwhile: no intent was open and the
//! counters' version grew by our own commits alone. Then a difference is
//! real drift, and the counters follow the listings in one reconcile entry.

use super::super::stock::StockEntry;
use super::super::{ServiceError, stock::read_counts};
use super::Run;
use crate::domain::{LedgerKind, StockCounts};
use crate::services::tx::Tx;

pub(super) async fn verify(run: &mut Run<'_>, start_version: u64, quiet: bool) -> Result<(), ServiceError> {
    let now = read_counts(run.ctx).await?;
    if !quiet || now.version != start_version + run.own_commits {
        tracing::info!("counters not compared: stock moved during the pass");
        return Ok(());
    }
    run.report.counters_checked = true;
    // Holds are not in the listings: reserved stays as it is.
    let want = StockCounts { reserved: now.counts.reserved, ..run.matched };
    if want == now.counts {
        return Ok(());
    }
    let was = now.counts;
    let change = StockCounts {
        unused: want.unused - was.unused,
        reserved: 0,
        assigned: want.assigned - was.assigned,
        banned: want.banned - was.banned,
        frozen: want.frozen - was.frozen,
    };
    let entry = StockEntry {
        kind: LedgerKind::Reconcile,
        file: None,
        change,
        reason: format!("counters follow the listings: {} -> {}", summary(&was), summary(&want)),
        reference: "reconcile".into(),
        actor: run.actor.to_string(),
    };
    // Only onto the counts we compared: any commit since makes this refuse.
    let check = move |c: &StockCounts| {
        if *c == was { Ok(()) } else { Err(ServiceError::Conflict("counters moved; not corrected".into())) }
    };
    let mut tx: Tx<()> = Tx::new();
    tx.stock(entry).check(check);
    // No writes of ours, so nothing to refuse: only the check can stop it.
    match tx.commit(run.ctx).await {
        Ok(_) => {
            run.own_commits += 1;
            run.report.counters_fixed = true;
            tracing::warn!(was = summary(&was), now = summary(&want), "stock counters corrected");
        }
        Err(ServiceError::Conflict(_)) => run.report.counters_checked = false,
        Err(e) => return Err(e),
    }
    Ok(())
}

fn summary(c: &StockCounts) -> String {
    format!("unused {} assigned {} banned {} frozen {}", c.unused, c.assigned, c.banned, c.frozen)
}
