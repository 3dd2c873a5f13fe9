//! Stock alerts: a product is low when available stock covers fewer than N
//! purchases of it (elite, 15 files, N = 2: below 30), sold out when it
//! covers not one. One event per product per change of level: the level is
//! remembered in a record written with a condition, in the event's commit,
//! and forgotten once stock is back at the threshold. Cheap (three reads
//! when nothing changes), so it may run after any sale.

use std::collections::HashMap;

use super::events::{self, Event};
use super::store::alerts;
use super::tx::Tx;
use super::{Ctx, ServiceError, catalog, stock};

pub use alerts::LowStockAlert;

/// Purchases of a product that available stock should cover.
pub const DEFAULT_LOW_STOCK_PURCHASES: u32 = 2;

/// Below this, `files` per purchase are short for `purchases` purchases.
pub fn threshold(files: u32, purchases: u32) -> i64 {
    i64::from(files) * i64::from(purchases)
}

/// Where a product's stock stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Fine,
    Low,
    /// Not even one purchase is covered.
    SoldOut,
}

fn level(files: u32, available: i64, limit: i64) -> Level {
    if available < i64::from(files.max(1)) {
        Level::SoldOut
    } else if available < limit {
        Level::Low
    } else {
        Level::Fine
    }
}

/// Checks every product against available stock; returns how many events
/// were recorded now: `stock.low` on a dip, `stock.sold_out` when not one
/// purchase is covered, `stock.restocked` when a sold-out product sells again.
pub async fn check_low_stock(ctx: &Ctx, purchases: u32) -> Result<u64, ServiceError> {
    let available = stock::read_counts(ctx).await?.counts.available();
    let standing: HashMap<String, bool> =
        alerts::all(ctx).read_all().await?.into_iter().map(|a| (a.product_id, a.sold_out)).collect();
    let mut cover = None;
    let mut sent = 0;
    for product in catalog::list(ctx).await? {
        let limit = threshold(product.files, purchases);
        let was = match standing.get(&product.id) {
            None => Level::Fine,
            Some(false) => Level::Low,
            Some(true) => Level::SoldOut,
        };
        let now = level(product.files, available, limit);
        if now == was {
            continue;
        }
        // Read the sales rate only when there is a change to tell.
        if cover.is_none() && now != Level::Fine {
            cover = Some(days_of_cover(ctx).await);
        }
        let seen = Seen { available, limit, days_of_cover: cover.flatten() };
        sent += u64::from(moved(ctx, &product.id, (was, now), &seen).await?);
    }
    Ok(sent)
}

/// How many days available stock lasts at the last week's sales rate.
async fn days_of_cover(ctx: &Ctx) -> Option<f64> {
    match super::staff::analytics::compute(ctx, COVER_WINDOW_DAYS).await {
        Ok(a) => a.overall.days_of_cover.map(|d| (d * 10.0).round() / 10.0),
        Err(e) => {
            tracing::warn!(error = ?e, "no sales rate for the stock alert");
            None
        }
    }
}

const COVER_WINDOW_DAYS: u32 = 7;

/// What the check saw.
struct Seen {
    available: i64,
    limit: i64,
    days_of_cover: Option<f64>,
}

/// One level change: the alert record and its event in one commit, refused
/// when another check moved it first (so two checks at once send one event).
async fn moved(ctx: &Ctx, product_id: &str, change: (Level, Level), seen: &Seen) -> Result<bool, ServiceError> {
    let (at, id, available, days_of_cover) =
        (ctx.clock.now(), product_id.to_string(), seen.available, seen.days_of_cover);
    let alert = |sold_out| LowStockAlert { product_id: id.clone(), threshold: seen.limit, available, at, sold_out };
    let low = || Event::StockLow { product_id: id.clone(), available, threshold: seen.limit, days_of_cover };
    let sold_out = || Event::StockSoldOut { product_id: id.clone(), available, days_of_cover };
    let restocked = || Event::StockRestocked { product_id: id.clone(), available };
    let (write, event) = match change {
        (Level::Fine, Level::Low) => (alerts::raise(&alert(false))?, Some(low())),
        (Level::Fine, Level::SoldOut) => (alerts::raise(&alert(true))?, Some(sold_out())),
        (Level::Low, Level::SoldOut) => (alerts::set_sold_out(product_id, true, available, at)?, Some(sold_out())),
        (Level::SoldOut, Level::Low) => (alerts::set_sold_out(product_id, false, available, at)?, Some(restocked())),
        (Level::SoldOut, Level::Fine) => (alerts::clear(product_id, true), Some(restocked())),
        // Recovered from a dip: the next dip is a new one.
        (Level::Low, Level::Fine) => (alerts::clear(product_id, false), None),
        // The same level: nothing to say.
        _ => return Ok(false),
    };
    let mut tx = Tx::new();
    tx.push((), write);
    if let Some(event) = &event {
        tx.push((), events::record(ctx, event)?);
    }
    if !tx.commit(ctx).await?.is_done() {
        return Ok(false);
    }
    tracing::warn!(product_id, available, threshold = seen.limit, ?change, "stock level changed");
    Ok(event.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_cover_n_purchases() {
        assert_eq!(threshold(15, 2), 30);
        assert_eq!(threshold(1, 2), 2);
        assert_eq!(threshold(7, 0), 0);
    }
}
