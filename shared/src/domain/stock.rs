use std::fmt;

use serde::{Deserialize, Serialize};

/// The storage prefix a stock file sits under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Unused,
    Assigned,
    Banned,
    Frozen,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Unused => "unused",
            Location::Assigned => "assigned",
            Location::Banned => "banned",
            Location::Frozen => "frozen",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stock counts. `reserved` is files held by unpaid checkouts (still in
/// unused/); available = unused - reserved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockCounts {
    pub unused: i64,
    pub reserved: i64,
    pub assigned: i64,
    pub banned: i64,
    pub frozen: i64,
}

impl StockCounts {
    pub fn available(&self) -> i64 {
        (self.unused - self.reserved).max(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Restock,
    Hold,
    Release,
    Sale,
    Revoke,
    Refund,
    Ban,
    Freeze,
    Unfreeze,
    WriteOff,
    Reconcile,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Restock => "restock",
            LedgerKind::Hold => "hold",
            LedgerKind::Release => "release",
            LedgerKind::Sale => "sale",
            LedgerKind::Revoke => "revoke",
            LedgerKind::Refund => "refund",
            LedgerKind::Ban => "ban",
            LedgerKind::Freeze => "freeze",
            LedgerKind::Unfreeze => "unfreeze",
            LedgerKind::WriteOff => "write_off",
            LedgerKind::Reconcile => "reconcile",
        }
    }
}
