//! Replacements waiting for stock (`REPLACEMENTS/{subscription}#{file}`):
//! written with the flag of a banned file that had none to replace it,
//! gone with the replacement. Stock that returns fills these first.

use serde::{Deserialize, Serialize};

use super::{Pages, put_new};
use crate::domain::Timestamp;
use crate::ports::{Index, Key, Query, Write};
use crate::services::ServiceError;
use crate::services::items::to_item;

const PK: &str = "REPLACEMENTS";

fn key(subscription_id: &str, file: &str) -> Key {
    Key::new(PK, format!("{subscription_id}#{file}"))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub subscription_id: String,
    pub file: String,
    pub since: Timestamp,
}

/// Oldest first would need a time key; a shop rarely has more than a page
/// waiting, and each is tried once per return of stock.
pub fn all(ctx: &crate::services::Ctx) -> Pages<'_, Waiting> {
    Pages::new(ctx, Query::new(Index::Table, PK).limit(100))
}

/// It waits (refused when it already does).
pub fn wait(w: &Waiting) -> Result<Write, ServiceError> {
    Ok(put_new(to_item(&key(&w.subscription_id, &w.file), w, None, None)?))
}

/// It was filled (or its subscription ended).
pub fn done(subscription_id: &str, file: &str) -> Write {
    Write::Delete { key: key(subscription_id, file), cond: None }
}
