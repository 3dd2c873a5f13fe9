//! Loyalty credits: one account and its entries per customer
//! (`CREDIT#{user}`: `ACCOUNT`, `ENTRY#{at}#{id}`), transfers by id
//! (`XFER#{id}`). Accounts are in the `CREDIT_ACCOUNTS` index, pending
//! transfers in `CREDITS_DUE` by due time.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new, read};
use super::{sort_at, up_to};
use crate::domain::{Direction, Effect, EntryKind, Timestamp, TransferState};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Item, Key, Query, SkRange, Write};
use crate::services::items::{to_item, value};
use crate::services::{Ctx, ServiceError};

/// A customer's sums. Changed only by ADD in the transaction that writes the
/// entry, so concurrent changes never overwrite each other.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AccountRecord {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub posted: i64,
    #[serde(default)]
    pub pending_in: i64,
    #[serde(default)]
    pub pending_out: i64,
    /// posted - pending_out, kept as its own number so a spend can be guarded
    /// by one condition (`spendable >= amount`).
    #[serde(default)]
    pub spendable: i64,
    /// Entries written so far.
    #[serde(default)]
    pub version: i64,
}

/// One two-phase transfer: an earn, a gift or a spend.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransferRecord {
    pub id: String,
    pub user_id: String,
    pub email: String,
    /// Earn, Gift or Spend.
    pub origin: EntryKind,
    pub dir: Direction,
    pub amount: i64,
    pub state: TransferState,
    pub reversed: bool,
    #[serde(default)]
    pub order_id: Option<String>,
    pub reason: String,
    pub actor: String,
    pub created_at: Timestamp,
    /// When a pending transfer is due (in the due index until settled).
    #[serde(default)]
    pub due_at: Option<Timestamp>,
}

/// An immutable line of the ledger.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: String,
    pub transfer_id: String,
    pub kind: EntryKind,
    /// + credits coming to the customer, - going.
    pub amount: i64,
    /// The entry's effect on each of the account's sums.
    pub posted: i64,
    pub pending_in: i64,
    pub pending_out: i64,
    pub reference: String,
    pub reason: String,
    pub at: Timestamp,
    pub actor: String,
}

const ENTRY_PREFIX: &str = "ENTRY#";
const ACCOUNTS_INDEX: &str = "CREDIT_ACCOUNTS";
const DUE_INDEX: &str = "CREDITS_DUE";

fn pk(user_id: &str) -> String {
    format!("CREDIT#{user_id}")
}

pub fn account_key(user_id: &str) -> Key {
    Key::new(pk(user_id), "ACCOUNT")
}

/// Entries sort by time, then id, under the account.
fn entry_key(user_id: &str, at: Timestamp, entry_id: &str) -> Key {
    Key::new(pk(user_id), format!("{ENTRY_PREFIX}{}", sort_at(at, entry_id)))
}

fn transfer_key(id: &str) -> Key {
    Key::new(format!("XFER#{id}"), "XFER")
}

pub async fn account(ctx: &Ctx, user_id: &str) -> Result<Option<AccountRecord>, ServiceError> {
    read(ctx, &account_key(user_id)).await
}

/// Every account, by user id.
pub fn accounts(ctx: &Ctx, limit: usize) -> Pages<'_, AccountRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, ACCOUNTS_INDEX).limit(limit))
}

/// One customer's entries, oldest first.
pub fn entries<'a>(ctx: &'a Ctx, user_id: &str) -> Pages<'a, EntryRecord> {
    let q = Query::new(Index::Table, pk(user_id)).sk(SkRange::Prefix(ENTRY_PREFIX.into())).limit(500);
    Pages::new(ctx, q)
}

pub async fn transfer(ctx: &Ctx, id: &str) -> Result<Option<TransferRecord>, ServiceError> {
    read(ctx, &transfer_key(id)).await
}

/// Pending transfers due at or before `upto`, soonest first.
pub fn due(ctx: &Ctx, upto: Timestamp) -> Pages<'_, TransferRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, DUE_INDEX).sk(up_to(sort_at(upto, "~"))).limit(100))
}

/// The transfer's item, in the due index while pending.
pub fn transfer_item(t: &TransferRecord) -> Result<Item, ServiceError> {
    let gsi = match (t.state, t.due_at) {
        (TransferState::Pending, Some(due)) => Some((DUE_INDEX.to_string(), sort_at(due, &t.id))),
        _ => None,
    };
    Ok(to_item(&transfer_key(&t.id), t, gsi, None)?)
}

/// A transfer that must be new (its id says what it is for).
pub fn put_transfer(t: &TransferRecord) -> Result<Write, ServiceError> {
    Ok(put_new(transfer_item(t)?))
}

/// `t` moves to `state`/`reversed`, only from the state it was read in;
/// it leaves the due index once settled.
pub fn move_transfer(t: &TransferRecord, state: TransferState, reversed: bool) -> Result<Write, ServiceError> {
    let mut changes =
        vec![Change::Set("state".into(), value(&state)?), Change::Set("reversed".into(), reversed.into())];
    if state != TransferState::Pending {
        changes.push(Change::Remove(GSI1PK.into()));
        changes.push(Change::Remove(GSI1SK.into()));
    }
    Ok(Write::Update { key: transfer_key(&t.id), changes, cond: Some(as_read(t)?) })
}

/// A check that `t` is still in the state it was read in.
pub fn transfer_is(t: &TransferRecord) -> Result<Write, ServiceError> {
    Ok(Write::Check { key: transfer_key(&t.id), cond: as_read(t)? })
}

fn as_read(t: &TransferRecord) -> Result<Cond, ServiceError> {
    Ok(Cond::And(vec![Cond::Eq("state".into(), value(&t.state)?), Cond::eq("reversed", t.reversed)]))
}

/// The account's sums moved by `e` (created with the first entry). With
/// `at_least`, refused unless that much is spendable.
pub fn book(t: &TransferRecord, e: &Effect, at_least: Option<i64>) -> Write {
    Write::Update {
        key: account_key(&t.user_id),
        changes: vec![
            Change::Add("posted".into(), e.posted),
            Change::Add("pending_in".into(), e.pending_in),
            Change::Add("pending_out".into(), e.pending_out),
            Change::Add("spendable".into(), e.spendable()),
            Change::Add("version".into(), 1),
            Change::Set("user_id".into(), t.user_id.clone().into()),
            Change::Set("email".into(), t.email.clone().into()),
            Change::Set(GSI1PK.into(), ACCOUNTS_INDEX.into()),
            Change::Set(GSI1SK.into(), t.user_id.clone().into()),
        ],
        cond: at_least.map(|n| Cond::Ge("spendable".into(), n)),
    }
}

/// An entry under `user_id`'s account, written once.
pub fn put_entry(user_id: &str, e: &EntryRecord) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&entry_key(user_id, e.at, &e.id), e, None, None)?))
}
