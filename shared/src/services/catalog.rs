//! The catalog lives in the record store (seeded once from infra/catalog.json);
//! it is the one source of price and limits.

use super::events::{self, Event};
use super::store::{self, catalog as products};
use super::tx::{Commit, Tx};
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

/// What the storefront lists: everything not retired.
pub async fn on_sale(ctx: &Ctx) -> Result<Vec<Product>, ServiceError> {
    Ok(list(ctx).await?.into_iter().filter(|p| !p.retired).collect())
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<Product>, ServiceError> {
    products::get(ctx, id).await
}

/// What a staff edit did.
#[derive(Debug)]
pub struct Saved {
    pub product: Product,
    pub created: bool,
}

/// Adds or changes a product (staff): checked as a whole, written with its
/// `catalog.product_changed` event in one transaction. Orders already made
/// keep the price and limits they copied at checkout.
pub async fn save(ctx: &Ctx, product: Product, actor: &str) -> Result<Saved, ServiceError> {
    let product = product.validate_edit().map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let before = products::get(ctx, &product.id).await?;
    if let Some(old) = &before
        && old.kind != product.kind
    {
        return Err(ServiceError::BadInput(format!("kind: {} is a {:?}; a product keeps its kind", old.id, old.kind)));
    }
    let created = before.is_none();
    let event = Event::CatalogChanged {
        product_id: product.id.clone(),
        actor: actor.to_string(),
        before: before.map(Box::new),
        after: Box::new(product.clone()),
    };
    let mut tx: Tx<()> = Tx::new();
    tx.push((), products::put_edit(&product, created)?).push((), events::record(ctx, &event)?);
    match tx.commit(ctx).await? {
        Commit::Done => Ok(Saved { product, created }),
        Commit::Refused(()) => Err(ServiceError::Conflict(format!("product {} changed meanwhile; retry", product.id))),
    }
}
