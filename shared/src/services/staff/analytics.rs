//! `GET /admin/analytics`: sales, revenue and stock cover over a window.
//!
//! Sales come from the stock ledger's `sale` entries (one per file handed
//! out; an order counts once, on the day of its first file), priced by the
//! orders they reference (cash: price less credits). Renewals that keep
//! their files and extensions hand out no file, so they are not sales here.
//! Files returning are those of live subscriptions whose grace ends in the
//! window (flagged files go to banned/, not back). Reads: every ledger entry
//! of the window (pages of 1000), one read per order sold, and the
//! subscriptions ending in the window; `reads` in the answer says how many.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::super::ledger::SKEW_MILLIS;
use super::super::store::stock as book;
use super::super::store::{catalog as products, orders, subscriptions};
use super::super::{Ctx, ServiceError, stock};
use crate::domain::{GRACE_MILLIS, LedgerKind, Timestamp};

pub const MAX_WINDOW_DAYS: u32 = 365;
const DAY_MILLIS: i64 = 86_400_000;
/// Orders read at once.
const FETCH_BATCH: usize = 25;

/// Counts for one day of the window (24 h from `start`).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Day {
    #[schema(format = DateTime)]
    pub start: String,
    pub sales: u64,
    pub files: u64,
    /// Minor units per currency.
    pub revenue: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Orders that received files in the window.
    pub sales: u64,
    pub files_sold: u64,
    /// Cash received for those orders, minor units per currency.
    pub revenue: BTreeMap<String, i64>,
    /// Files sold per day over the window.
    pub velocity: f64,
    /// Available files / velocity; null when nothing sold.
    pub days_of_cover: Option<f64>,
    /// Files coming back to stock as subscriptions end within the window.
    pub returning_files: u64,
    /// Velocity x lead time + safety stock, rounded up.
    pub reorder_point: u64,
    pub days: Vec<Day>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProductFigures {
    pub product_id: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// What the answer cost.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Reads {
    pub ledger_entries: u64,
    pub orders: u64,
    pub subscriptions: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Analytics {
    pub window_days: u32,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub until: String,
    /// Unused minus reserved now (one pool for every plan; a plan's
    /// `days_of_cover` is how long it would last at that plan's pace alone).
    pub available: i64,
    pub lead_time_days: u32,
    pub safety_stock: u32,
    pub overall: Figures,
    pub products: Vec<ProductFigures>,
    pub reads: Reads,
}

/// One order's files sold in the window.
struct Sold {
    first: Timestamp,
    files: u64,
}

pub async fn compute(ctx: &Ctx, window_days: u32) -> Result<Analytics, ServiceError> {
    if !(1..=MAX_WINDOW_DAYS).contains(&window_days) {
        return Err(ServiceError::BadInput(format!("window_days: must be 1 to {MAX_WINDOW_DAYS}")));
    }
    let now = ctx.clock.now();
    let from = now.plus_days(-i64::from(window_days));
    let mut reads = Reads::default();
    let sold = sales(ctx, from, now, &mut reads).await?;

    let ids: Vec<&String> = sold.keys().collect();
    let mut order_of = HashMap::new();
    for chunk in ids.chunks(FETCH_BATCH) {
        let got = futures_util::future::join_all(chunk.iter().map(|id| orders::get(ctx, id))).await;
        for o in got {
            if let Some(o) = o? {
                order_of.insert(o.order_id.clone(), o);
            }
        }
    }
    reads.orders = ids.len() as u64;

    let r = ctx.settings.reorder;
    let available = stock::read_counts(ctx).await?.counts.available();
    let blank = || blank_figures(from, window_days);
    let mut overall = blank();
    let mut per: BTreeMap<String, Figures> = BTreeMap::new();
    for p in products::all(ctx).read_all().await? {
        per.insert(p.id, blank());
    }
    for (id, s) in &sold {
        let Some(o) = order_of.get(id) else { continue };
        let cash = o.amount_due();
        let day = ((s.first.millis() - from.millis()) / DAY_MILLIS).clamp(0, i64::from(window_days) - 1) as usize;
        for f in [&mut overall, per.entry(o.product_id.clone()).or_insert_with(blank)] {
            f.sales += 1;
            f.files_sold += s.files;
            add(&mut f.revenue, cash.currency.as_str(), cash.amount);
            let d = &mut f.days[day];
            d.sales += 1;
            d.files += s.files;
            add(&mut d.revenue, cash.currency.as_str(), cash.amount);
        }
    }

    // Grace ends 24 h after valid_until: those files come back in the window.
    let upto = now.plus_days(i64::from(window_days)).plus_millis(-GRACE_MILLIS);
    let mut ending = subscriptions::valid_until_between(ctx, now.plus_millis(-GRACE_MILLIS), upto);
    while let Some(page) = ending.next_page().await? {
        for sub in page {
            reads.subscriptions += 1;
            let back = sub.files.iter().filter(|f| !sub.flagged.contains(f)).count() as u64;
            overall.returning_files += back;
            per.entry(sub.product_id.clone()).or_insert_with(blank).returning_files += back;
        }
    }

    for f in std::iter::once(&mut overall).chain(per.values_mut()) {
        finish(f, window_days, available, r);
    }
    Ok(Analytics {
        window_days,
        from: from.rfc3339(),
        until: now.rfc3339(),
        available,
        lead_time_days: r.lead_time_days,
        safety_stock: r.safety_stock,
        overall,
        products: per.into_iter().map(|(product_id, figures)| ProductFigures { product_id, figures }).collect(),
        reads,
    })
}

/// Sale entries in `[from, now]` by order, walking the ledger down from
/// the newest entry to `SKEW_MILLIS` below `from` (see `ledger`).
async fn sales(
    ctx: &Ctx,
    from: Timestamp,
    now: Timestamp,
    reads: &mut Reads,
) -> Result<BTreeMap<String, Sold>, ServiceError> {
    let floor = from.plus_millis(-SKEW_MILLIS);
    let mut sold: BTreeMap<String, Sold> = BTreeMap::new();
    let mut pages = book::newest_first(ctx, 1000);
    'scan: while let Some(page) = pages.next_page().await? {
        for e in page {
            reads.ledger_entries += 1;
            if e.at < floor {
                break 'scan;
            }
            if e.kind != LedgerKind::Sale || e.at < from || e.at > now {
                continue;
            }
            let s = sold.entry(e.reference.clone()).or_insert(Sold { first: e.at, files: 0 });
            s.files += 1;
            s.first = s.first.min(e.at);
        }
    }
    Ok(sold)
}

fn add(sums: &mut BTreeMap<String, i64>, currency: &str, amount: i64) {
    let sum = sums.entry(currency.to_string()).or_default();
    *sum = sum.saturating_add(amount);
}

fn blank_figures(from: Timestamp, window_days: u32) -> Figures {
    let days = (0..i64::from(window_days))
        .map(|i| Day { start: from.plus_millis(i * DAY_MILLIS).rfc3339(), ..Day::default() })
        .collect();
    Figures { days, ..Figures::default() }
}

fn finish(f: &mut Figures, window_days: u32, available: i64, r: crate::config::Reorder) {
    let velocity = f.files_sold as f64 / f64::from(window_days);
    f.velocity = round3(velocity);
    f.days_of_cover = (f.files_sold > 0).then(|| round3(available.max(0) as f64 / velocity));
    f.reorder_point = (velocity * f64::from(r.lead_time_days)).ceil() as u64 + u64::from(r.safety_stock);
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_and_reorder_point_follow_velocity() {
        let r = crate::config::Reorder { lead_time_days: 7, safety_stock: 10 };
        let mut f = Figures { files_sold: 15, ..Figures::default() };
        finish(&mut f, 30, 20, r);
        assert_eq!(f.velocity, 0.5);
        assert_eq!(f.days_of_cover, Some(40.0));
        assert_eq!(f.reorder_point, 4 + 10, "0.5 x 7 = 3.5, rounded up, plus 10");
        let mut none = Figures::default();
        finish(&mut none, 30, 20, r);
        assert_eq!((none.velocity, none.days_of_cover, none.reorder_point), (0.0, None, 10));
    }
}
