//! Low-stock alerts: a product is low when available stock covers fewer
//! than N purchases of it (elite, 15 files, N = 2: below 30). One `stock.low`
//! event per product per dip: the alert is remembered in a record written
//! with a condition, and forgotten only once stock is back at the threshold.
//! Cheap (three reads when nothing changes), so it may run after any sale.

use std::collections::HashSet;

use super::events::{self, Event};
use super::store::{self, alerts};
use super::{Ctx, ServiceError, catalog, stock};

pub use alerts::LowStockAlert;

/// Purchases of a product that available stock should cover.
pub const DEFAULT_LOW_STOCK_PURCHASES: u32 = 2;

/// Below this, `files` per purchase are short for `purchases` purchases.
pub fn threshold(files: u32, purchases: u32) -> i64 {
    i64::from(files) * i64::from(purchases)
}

/// Checks every product against available stock; returns how many alerts
/// were sent now.
pub async fn check_low_stock(ctx: &Ctx, purchases: u32) -> Result<u64, ServiceError> {
    let available = stock::read_counts(ctx).await?.counts.available();
    let alerted = alerted(ctx).await?;
    let mut sent = 0;
    for product in catalog::list(ctx).await? {
        let limit = threshold(product.files, purchases);
        let low = available < limit;
        let known = alerted.contains(&product.id);
        if low && !known {
            sent += u64::from(raise(ctx, &product.id, limit, available).await?);
        } else if !low && known {
            // Recovered: the next dip is a new one.
            // Refused when another check cleared it first.
            store::apply(ctx, alerts::clear(&product.id)).await?;
        }
    }
    Ok(sent)
}

/// Products with an alert standing.
async fn alerted(ctx: &Ctx) -> Result<HashSet<String>, ServiceError> {
    Ok(alerts::all(ctx).read_all().await?.into_iter().map(|a| a.product_id).collect())
}

/// Remembers the dip first, so two checks at once send one event.
async fn raise(ctx: &Ctx, product_id: &str, threshold: i64, available: i64) -> Result<bool, ServiceError> {
    let alert = LowStockAlert { product_id: product_id.to_string(), threshold, available, at: ctx.clock.now() };
    if !store::apply(ctx, alerts::raise(&alert)?).await? {
        return Ok(false);
    }
    tracing::warn!(product_id, available, threshold, "stock low");
    events::notify(ctx, Event::StockLow { product_id: product_id.to_string(), available, threshold }).await;
    Ok(true)
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
