//! A subscription's revoke intent (`SUB#{id}/REVOKE`): which files go back,
//! written before any moves; in the INTENTS index until done.

use serde::{Deserialize, Serialize};

use super::subscriptions::pk;
use super::{INTENTS_INDEX, sort_at};
use super::{put_new, read};
use crate::domain::{EndReason, Timestamp};
use crate::ports::{Key, Write};
use crate::services::items::{mark_done, to_item};
use crate::services::{Ctx, ServiceError};

/// Files going back from a subscription (or a claim) to stock, written before
/// any file moves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevokeIntent {
    pub subscription_id: String,
    pub order_id: String,
    pub user_id: String,
    /// The owner's address, for the end's mail (absent in intents made
    /// before it was kept: no mail).
    #[serde(default)]
    pub email: String,
    pub files: Vec<String>,
    pub reason: EndReason,
    pub actor: String,
    pub created_at: Timestamp,
    pub done: bool,
    /// Staff's words for the ledger and the owner (`deleted by staff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn key(subscription_id: &str) -> Key {
    Key::new(pk(subscription_id), "REVOKE")
}

pub async fn get(ctx: &Ctx, subscription_id: &str) -> Result<Option<RevokeIntent>, ServiceError> {
    read(ctx, &key(subscription_id)).await
}

/// The intent; refused if the subscription has one already.
pub fn put(intent: &RevokeIntent) -> Result<Write, ServiceError> {
    let gsi = (INTENTS_INDEX.to_string(), sort_at(intent.created_at, &intent.subscription_id));
    Ok(put_new(to_item(&key(&intent.subscription_id), intent, Some(gsi), None)?))
}

/// Done, once (it leaves the index).
pub fn done(subscription_id: &str) -> Write {
    mark_done(key(subscription_id))
}
