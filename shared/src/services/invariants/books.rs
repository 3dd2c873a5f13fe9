//! The books: counters against the listings and the holds;
//! credit accounts against their entries; paid orders against what came of
//! them.

use std::collections::HashSet;

use super::super::store::credits::accounts;
use super::super::store::orders::HoldRecord;
use super::super::store::stock::CountsRecord;
use super::super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::super::store::{Pages, orders};
use super::super::{Ctx, ServiceError, credits, keys};
use super::files::Seen;
use super::{Invariant, InvariantReport, PAGE, show};
use crate::domain::{EndReason, OrderStatus, StockCounts};
use crate::ports::{Index, Query};

/// Files per location only (holds are not files).
fn files_only(c: &StockCounts) -> StockCounts {
    StockCounts { reserved: 0, ..*c }
}

/// No oversell: counters against listings, records and holds.
pub(super) async fn stock(
    ctx: &Ctx,
    counts: &CountsRecord,
    seen: &Seen,
    report: &mut InvariantReport,
) -> Result<(), ServiceError> {
    let c = &counts.counts;
    for (what, n) in [("listings", &seen.listed), ("file records", &seen.records)] {
        if files_only(c) != *n {
            report.add(Invariant::NoOversell, format!("counters say {}, {what} {}", show(&files_only(c)), show(n)));
        }
    }
    let holds: Vec<HoldRecord> =
        Pages::new(ctx, Query::new(Index::Gsi1, keys::HOLDS_INDEX).limit(PAGE)).read_all().await?;
    let held: i64 = holds.iter().map(|h| i64::from(h.count)).sum();
    if c.reserved != held {
        report.add(Invariant::NoOversell, format!("reserved is {}, holds add up to {held}", c.reserved));
    }
    if c.reserved > c.unused || [c.unused, c.reserved, c.assigned, c.banned, c.frozen].iter().any(|n| *n < 0) {
        report.add(Invariant::NoOversell, format!("impossible counters: {}", show(c)));
    }
    Ok(())
}

/// Every credit account's sums equal the sums of its entries.
pub(super) async fn credits(ctx: &Ctx, report: &mut InvariantReport) -> Result<(), ServiceError> {
    let emails: Vec<String> = accounts(ctx, PAGE).read_all().await?.into_iter().map(|a| a.email).collect();
    report.credit_accounts = emails.len() as u64;
    for email in emails {
        let audit = credits::audit(ctx, &email).await?;
        if !audit.ok() {
            report.add(Invariant::Credits, format!("credits of {email} do not add up: {audit:?}"));
        }
    }
    Ok(())
}

/// No paid order is left unfulfilled past the requeue window, and every
/// fulfilled order names a subscription that exists.
///
/// A subscription the SUBS index lists as live exists and did not end by a
/// refund, so it is not read again; only the others are (one get each). If
/// the index lags a refund that just ended one, a later check reads it.
pub(super) async fn orders(
    ctx: &Ctx,
    live: &HashSet<String>,
    report: &mut InvariantReport,
) -> Result<(), ServiceError> {
    let cutoff = ctx.clock.now().plus_millis(-ctx.settings.requeue_after_millis);
    let mut found = Vec::new();
    let mut paid = orders::with_status(ctx, OrderStatus::Paid, Some(cutoff), PAGE);
    while let Some(page) = paid.next_page().await? {
        for o in page.into_iter().filter(|o| o.status == OrderStatus::Paid) {
            found.push(format!("order {} paid at {} and still not fulfilled", o.order_id, o.updated_at.rfc3339()));
        }
    }
    let mut fulfilled = Vec::new();
    let mut done = orders::with_status(ctx, OrderStatus::Fulfilled, None, PAGE);
    while let Some(page) = done.next_page().await? {
        for o in page.into_iter().filter(|o| o.status == OrderStatus::Fulfilled) {
            fulfilled.push((o.order_id, o.subscription_id));
        }
    }
    let mut refunds = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (order_id, sub) in fulfilled {
        if sub.as_ref().is_some_and(|s| live.contains(s)) {
            continue;
        }
        let record = match &sub {
            Some(s) => subs::get(ctx, s).await?,
            None => None,
        };
        let Some(sub) = record else {
            found.push(format!("order {order_id} is fulfilled but its subscription {sub:?} does not exist"));
            continue;
        };
        if seen.insert(sub.subscription_id.clone())
            && let Some(why) = refund_overreach(ctx, &sub).await?
        {
            refunds.push(why);
        }
    }
    found.into_iter().for_each(|f| report.add(Invariant::PaidOrders, f));
    refunds.into_iter().for_each(|f| report.add(Invariant::Refunds, f));
    Ok(())
}

/// A refund changes only what its order bought: a subscription that a
/// fulfilled order still points at ended "refunded" only if the order that
/// created it was refunded (not an add-on's or a renewal's).
async fn refund_overreach(ctx: &Ctx, sub: &SubscriptionRecord) -> Result<Option<String>, ServiceError> {
    if sub.ended != Some(EndReason::Refunded) {
        return Ok(None);
    }
    let status = orders::get(ctx, &sub.order_id).await?.map(|o| o.status);
    Ok((status != Some(OrderStatus::Refunded)).then(|| {
        format!(
            "subscription {} ended by a refund, but the order that created it ({}) is {status:?}",
            sub.subscription_id, sub.order_id
        )
    }))
}
