//! A staff adjustment's intent (`FILE#{file}/ADJUST`): the storage moves it
//! still owes, in the INTENTS index until done. A file has at most one in
//! flight. The record's shape is `adjust::AdjustIntent`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::read;
use super::{INTENTS_INDEX, sort_at};
use crate::domain::Timestamp;
use crate::ports::{Cond, Key, Write};
use crate::services::items::{mark_done, to_item};
use crate::services::{Ctx, ServiceError};

pub fn key(file: &str) -> Key {
    Key::new(super::files::key(file).pk, "ADJUST")
}

pub async fn get<T: DeserializeOwned>(ctx: &Ctx, file: &str) -> Result<Option<T>, ServiceError> {
    read(ctx, &key(file)).await
}

/// The intent; refused while an unfinished one of the file is there.
pub fn put<T: Serialize>(file: &str, created_at: Timestamp, intent: &T) -> Result<Write, ServiceError> {
    let gsi = (INTENTS_INDEX.to_string(), sort_at(created_at, file));
    Ok(Write::Put {
        item: to_item(&key(file), intent, Some(gsi), None)?,
        cond: Some(Cond::Or(vec![Cond::NotExists, Cond::eq("done", true)])),
    })
}

/// Done, once (it leaves the index).
pub fn done(file: &str) -> Write {
    mark_done(key(file))
}
