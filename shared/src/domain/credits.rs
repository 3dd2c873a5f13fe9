//! Loyalty credits as a two-phase ledger (after TigerBeetle's two-phase
//! transfers): a transfer is pending until it is posted or voided, exactly
//! once; a posted one may be reversed, once. Entries are never changed: every
//! correction is a new entry. Pure rules only; storage is in services.

use serde::{Deserialize, Serialize};

/// How credits are earned and valued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditRules {
    /// Minor units of price per credit (earning) and per credit spent.
    pub minor_per_credit: i64,
    /// How long an earned credit stays pending (the refund window).
    pub hold_millis: i64,
}

impl Default for CreditRules {
    fn default() -> Self {
        CreditRules { minor_per_credit: 100, hold_millis: 48 * 3600 * 1000 }
    }
}

impl CreditRules {
    /// Credits a purchase of `paid_minor` earns: floor(price / rate).
    pub fn earned(&self, paid_minor: i64) -> i64 {
        if paid_minor <= 0 || self.minor_per_credit <= 0 { 0 } else { paid_minor / self.minor_per_credit }
    }

    /// Credits to spend on a price: as many as are spendable, never more than
    /// the price (no change is given in credits).
    pub fn to_spend(&self, price_minor: i64, spendable: i64) -> i64 {
        if spendable <= 0 || self.minor_per_credit <= 0 {
            return 0;
        }
        spendable.min(price_minor.max(0) / self.minor_per_credit)
    }

    pub fn value_minor(&self, credits: i64) -> i64 {
        credits.saturating_mul(self.minor_per_credit)
    }
}

/// Which way a transfer moves credits for the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CreditDirection)]
pub enum Direction {
    /// Earned or gifted: to the customer.
    In,
    /// Spent: from the customer.
    Out,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CreditEntryKind)]
pub enum EntryKind {
    Earn,
    Post,
    Void,
    Reverse,
    Gift,
    Spend,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    Pending,
    Posted,
    Voided,
}

/// What an entry does to an account's three sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub posted: i64,
    pub pending_in: i64,
    pub pending_out: i64,
}

impl Effect {
    /// What the entry shows the customer: + for credits coming, - going.
    pub fn shown(&self) -> i64 {
        self.posted + self.pending_in - self.pending_out
    }
    /// Change of what can be spent (posted - pending out).
    pub fn spendable(&self) -> i64 {
        self.posted - self.pending_out
    }
}

/// The effect of an entry of `kind` on a transfer of `amount` credits going
/// `dir`. Earn and pending spends open a transfer; gifts are posted at once.
pub fn effect(kind: EntryKind, dir: Direction, amount: i64) -> Effect {
    let z = Effect::default();
    match (kind, dir) {
        (EntryKind::Earn, _) => Effect { pending_in: amount, ..z },
        (EntryKind::Spend, _) => Effect { pending_out: amount, ..z },
        (EntryKind::Gift, _) => Effect { posted: amount, ..z },
        (EntryKind::Post, Direction::In) => Effect { posted: amount, pending_in: -amount, ..z },
        (EntryKind::Post, Direction::Out) => Effect { posted: -amount, pending_out: -amount, ..z },
        (EntryKind::Void, Direction::In) => Effect { pending_in: -amount, ..z },
        (EntryKind::Void, Direction::Out) => Effect { pending_out: -amount, ..z },
        (EntryKind::Reverse, Direction::In) => Effect { posted: -amount, ..z },
        (EntryKind::Reverse, Direction::Out) => Effect { posted: amount, ..z },
    }
}

/// What is asked of an existing transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The hold ended (earn) or the order was paid (spend).
    Post,
    /// The order expired or failed before it was paid (spend).
    Void,
    /// The purchase or gift was deactivated: void if pending, else reverse.
    Deactivate,
}

/// The one entry an action writes, and the transfer's state after it; None
/// when the action has nothing left to do (already done either way).
pub fn decide(state: TransferState, reversed: bool, action: Action) -> Option<(EntryKind, TransferState, bool)> {
    use TransferState::*;
    match (state, action) {
        (Pending, Action::Post) => Some((EntryKind::Post, Posted, false)),
        (Pending, Action::Void | Action::Deactivate) => Some((EntryKind::Void, Voided, false)),
        (Posted, Action::Deactivate) if !reversed => Some((EntryKind::Reverse, Posted, true)),
        _ => None,
    }
}

/// An account's sums. Spending may not take `spendable` below zero, and a
/// negative balance (after a reversal) refuses all spending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub posted: i64,
    pub pending_in: i64,
    pub pending_out: i64,
}

impl Balance {
    pub fn spendable(&self) -> i64 {
        self.posted - self.pending_out
    }
    pub fn can_spend(&self, amount: i64) -> bool {
        amount > 0 && self.spendable() >= amount
    }
    pub fn apply(&mut self, e: Effect) {
        self.posted += e.posted;
        self.pending_in += e.pending_in;
        self.pending_out += e.pending_out;
    }
}

#[cfg(test)]
#[path = "credits_tests.rs"]
mod tests;
