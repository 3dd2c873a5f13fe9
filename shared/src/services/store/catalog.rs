//! Catalog products (`PRODUCT` partition) and the marker saying the
//! catalog was seeded once.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new, read};
use crate::domain::{Product, Timestamp};
use crate::ports::{Cond, Index, Key, Query, Write};
use crate::services::items::to_item;
use crate::services::{Ctx, ServiceError};

const PK: &str = "PRODUCT";

pub fn key(id: &str) -> Key {
    Key::new(PK, format!("PRODUCT#{id}"))
}

fn seeded_key() -> Key {
    Key::new("META", "CATALOG_SEEDED")
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SeededMarker {
    pub at: Timestamp,
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<Product>, ServiceError> {
    read(ctx, &key(id)).await
}

/// Every product, in id order.
pub fn all(ctx: &Ctx) -> Pages<'_, Product> {
    Pages::new(ctx, Query::new(Index::Table, PK).limit(100))
}

/// A product that must be new (staff edits are never overwritten).
pub fn put_new_product(p: &Product) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(&p.id), p, None, None)?))
}

/// A staff edit: a new product (must be new) or a change (must exist), so
/// a create racing another create, or an edit racing nothing, is refused.
pub fn put_edit(p: &Product, created: bool) -> Result<Write, ServiceError> {
    let cond = if created { Cond::NotExists } else { Cond::Exists };
    Ok(Write::Put { item: to_item(&key(&p.id), p, None, None)?, cond: Some(cond) })
}

pub async fn seeded(ctx: &Ctx) -> Result<bool, ServiceError> {
    Ok(ctx.records.get(&seeded_key()).await?.is_some())
}

pub fn mark_seeded(at: Timestamp) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&seeded_key(), &SeededMarker { at }, None, None)?))
}
