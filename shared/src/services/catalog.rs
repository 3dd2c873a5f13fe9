//! The catalog lives in the record store (seeded once from infra/catalog.json);
//! it is the one source of price and limits.

use super::items::{from_item, to_item};
use super::{Ctx, ServiceError, keys};
use crate::domain::{Product, ProductKind, default_catalog};
use crate::ports::{Cond, Index, Query, RecordError};

/// Loads the default plans into the store unless it was seeded before (staff
/// edits in the store survive restarts). Safe to run from many processes.
pub async fn seed(ctx: &Ctx) -> Result<bool, ServiceError> {
    if ctx.records.get(&keys::catalog_seeded()).await?.is_some() {
        return Ok(false);
    }
    let products = default_catalog().map_err(|e| ServiceError::internal(anyhow::anyhow!("seed catalog: {e}")))?;
    for p in &products {
        let item = to_item(&keys::product(&p.id), p, None, None)?;
        match ctx.records.put(item, Some(Cond::NotExists)).await {
            Ok(()) | Err(RecordError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let marker = to_item(&keys::catalog_seeded(), &serde_json::json!({"at": ctx.clock.now()}), None, None)?;
    match ctx.records.put(marker, Some(Cond::NotExists)).await {
        Ok(()) | Err(RecordError::ConditionFailed { .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(ctx: &Ctx) -> Result<Vec<Product>, ServiceError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = ctx.records.query(Query::new(Index::Table, keys::PRODUCT_PK).limit(100).after(cursor)).await?;
        for item in page.items {
            out.push(from_item::<Product>(item)?);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    // Plans first, cheapest first, as a storefront lists them; add-ons after.
    out.sort_by_key(|p| (p.kind != ProductKind::Plan, p.price.amount, p.id.clone()));
    Ok(out)
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<Product>, ServiceError> {
    match ctx.records.get(&keys::product(id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}
