//! Low-stock alerts standing, one per product (`ALERT#LOW_STOCK`).

use serde::{Deserialize, Serialize};

use super::{Pages, put_new};
use crate::domain::Timestamp;
use crate::ports::{Cond, Index, Key, Query, Write};
use crate::services::items::to_item;
use crate::services::{Ctx, ServiceError};

const PK: &str = "ALERT#LOW_STOCK";

fn key(product_id: &str) -> Key {
    Key::new(PK, format!("PRODUCT#{product_id}"))
}

/// A dip that was announced.
#[derive(Debug, Serialize, Deserialize)]
pub struct LowStockAlert {
    pub product_id: String,
    pub threshold: i64,
    pub available: i64,
    pub at: Timestamp,
}

pub fn all(ctx: &Ctx) -> Pages<'_, LowStockAlert> {
    Pages::new(ctx, Query::new(Index::Table, PK).limit(100))
}

/// The alert, unless one stands already.
pub fn raise(alert: &LowStockAlert) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(&alert.product_id), alert, None, None)?))
}

/// Forgets a standing alert (refused when there is none).
pub fn clear(product_id: &str) -> Write {
    Write::Delete { key: key(product_id), cond: Some(Cond::Exists) }
}
