//! A seat (file) leaving a subscription (`SUB#{id}/SEATREMOVE#{file}`),
//! written before the file moves; in the `SEAT_INTENTS` index by creation
//! time until done.

use serde::{Deserialize, Serialize};

use super::subscriptions::pk;
use super::{Pages, put_new, read};
use super::{sort_at, up_to};
use crate::domain::{LedgerKind, Timestamp};
use crate::ports::{Index, Key, Query, Write};
use crate::services::items::{mark_done, to_item};
use crate::services::{Ctx, ServiceError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatIntent {
    pub subscription_id: String,
    pub user_id: String,
    pub file: String,
    pub actor: String,
    pub created_at: Timestamp,
    pub done: bool,
    /// The ledger's kind and reason: a seat removed by staff, or an
    /// add-on's file taken back by its refund.
    #[serde(default = "seat_kind")]
    pub kind: LedgerKind,
    #[serde(default = "seat_reason")]
    pub reason: String,
}

pub fn seat_kind() -> LedgerKind {
    LedgerKind::Revoke
}

pub fn seat_reason() -> String {
    "seat removed".into()
}

const INDEX: &str = "SEAT_INTENTS";

fn key(subscription_id: &str, file: &str) -> Key {
    Key::new(pk(subscription_id), format!("SEATREMOVE#{file}"))
}

pub async fn get(ctx: &Ctx, subscription_id: &str, file: &str) -> Result<Option<SeatIntent>, ServiceError> {
    read(ctx, &key(subscription_id, file)).await
}

/// Removals begun at or before `upto`, oldest first (done ones may show).
pub fn begun_by(ctx: &Ctx, upto: Timestamp) -> Pages<'_, SeatIntent> {
    Pages::new(ctx, Query::new(Index::Gsi1, INDEX).sk(up_to(sort_at(upto, "~"))).limit(100))
}

/// The intent; refused if this file's removal was begun already.
pub fn put(i: &SeatIntent) -> Result<Write, ServiceError> {
    let gsi = (INDEX.to_string(), sort_at(i.created_at, &format!("{}#{}", i.subscription_id, i.file)));
    Ok(put_new(to_item(&key(&i.subscription_id, &i.file), i, Some(gsi), None)?))
}

/// Done, once (it leaves the index).
pub fn done(subscription_id: &str, file: &str) -> Write {
    mark_done(key(subscription_id, file))
}
