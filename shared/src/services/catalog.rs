//! The catalog lives in the record store (seeded once from infra/catalog.json);
//! it is the one source of price and limits.

use super::store::{self, catalog as products};
use super::{Ctx, ServiceError};
use crate::domain::{Product, ProductKind, default_catalog};

/// Loads the default plans into the store unless it was seeded before (staff
/// edits in the store survive restarts). Safe to run from many processes.
pub async fn seed(ctx: &Ctx) -> Result<bool, ServiceError> {
    if products::seeded(ctx).await? {
        return Ok(false);
    }
    let defaults = default_catalog().map_err(|e| ServiceError::internal(anyhow::anyhow!("seed catalog: {e}")))?;
    for p in &defaults {
        // Refused when it is there already: staff edits stay.
        store::apply(ctx, products::put_new_product(p)?).await?;
    }
    store::apply(ctx, products::mark_seeded(ctx.clock.now())?).await?;
    Ok(true)
}

pub async fn list(ctx: &Ctx) -> Result<Vec<Product>, ServiceError> {
    let mut out = products::all(ctx).read_all().await?;
    // Plans first, cheapest first, as a storefront lists them; add-ons after.
    out.sort_by_key(|p| (p.kind != ProductKind::Plan, p.price.amount, p.id.clone()));
    Ok(out)
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<Product>, ServiceError> {
    products::get(ctx, id).await
}
