//! Stock alerts standing, one per product (`ALERT#LOW_STOCK`): low, or sold
//! out when `sold_out`.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new};
use crate::domain::Timestamp;
use crate::ports::{Change, Cond, Index, Key, Query, Write};
use crate::services::items::{to_item, value};
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
    /// Not even one purchase is covered.
    #[serde(default)]
    pub sold_out: bool,
}

pub fn all(ctx: &Ctx) -> Pages<'_, LowStockAlert> {
    Pages::new(ctx, Query::new(Index::Table, PK).limit(100))
}

/// The alert, unless one stands already.
pub fn raise(alert: &LowStockAlert) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(&alert.product_id), alert, None, None)?))
}

/// The standing alert's level moves from `!sold_out` to `sold_out` (refused
/// when another check moved it first).
pub fn set_sold_out(product_id: &str, sold_out: bool, available: i64, at: Timestamp) -> Result<Write, ServiceError> {
    Ok(Write::Update {
        key: key(product_id),
        changes: vec![
            Change::Set("sold_out".into(), sold_out.into()),
            Change::Set("available".into(), available.into()),
            Change::Set("at".into(), value(&at)?),
        ],
        cond: Some(Cond::And(vec![Cond::Exists, level(!sold_out)])),
    })
}

/// Forgets a standing alert of that level (refused when there is none).
pub fn clear(product_id: &str, sold_out: bool) -> Write {
    Write::Delete { key: key(product_id), cond: Some(Cond::And(vec![Cond::Exists, level(sold_out)])) }
}

fn level(sold_out: bool) -> Cond {
    if sold_out { Cond::eq("sold_out", true) } else { Cond::Ne("sold_out".into(), true.into()) }
}

const OPS: &str = "ALERT#OPS";

/// An incident staff were told of, standing until it clears.
#[derive(Debug, Serialize, Deserialize)]
pub struct OpsIncident {
    /// What failed (`job:expire`, `invariants`).
    pub subject: String,
    pub message: String,
    pub at: Timestamp,
}

fn ops_key(subject: &str) -> Key {
    Key::new(OPS, subject)
}

pub async fn incident(ctx: &Ctx, subject: &str) -> Result<Option<OpsIncident>, ServiceError> {
    match ctx.records.get(&ops_key(subject)).await? {
        Some(item) => Ok(Some(crate::services::items::from_item(item)?)),
        None => Ok(None),
    }
}

/// The incident, unless one stands already.
pub fn open_incident(i: &OpsIncident) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&ops_key(&i.subject), i, None, None)?))
}

/// It cleared (refused when none stands).
pub fn close_incident(subject: &str) -> Write {
    Write::Delete { key: ops_key(subject), cond: Some(Cond::Exists) }
}
