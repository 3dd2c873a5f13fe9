//! Records <-> typed structs. Every stored type is a serde struct; its key and
//! index attributes are added here so the services never build maps by hand.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ports::records::{GSI1PK, GSI1SK, PK, SK, TTL};
use crate::ports::{Item, Key, RecordError};

/// Builds an item from a struct plus its key, optional index entry and TTL.
pub fn to_item<T: Serialize>(
    key: &Key,
    value: &T,
    gsi: Option<(String, String)>,
    ttl_secs: Option<i64>,
) -> Result<Item, RecordError> {
    let mut item = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(RecordError::Invalid("record must serialise to an object".into())),
        Err(e) => return Err(RecordError::Invalid(e.to_string())),
    };
    item.insert(PK.into(), key.pk.clone().into());
    item.insert(SK.into(), key.sk.clone().into());
    if let Some((pk, sk)) = gsi {
        item.insert(GSI1PK.into(), pk.into());
        item.insert(GSI1SK.into(), sk.into());
    }
    if let Some(t) = ttl_secs {
        item.insert(TTL.into(), t.into());
    }
    Ok(item)
}

/// Reads a struct back from an item (extra attributes are ignored).
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, RecordError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| RecordError::Invalid(format!("stored record is malformed: {e}")))
}

/// A value as stored; a type that does not serialise is a bug, reported.
pub fn value<T: Serialize>(v: &T) -> Result<Value, RecordError> {
    serde_json::to_value(v).map_err(|e| RecordError::Invalid(format!("value does not serialise: {e}")))
}

/// Marks an intent done, once, and takes it out of the intents index (so
/// reconcile stops looking at it).
pub fn mark_done(key: crate::ports::Key) -> crate::ports::Write {
    use crate::ports::records::{GSI1PK, GSI1SK};
    use crate::ports::{Change, Cond, Write};
    Write::Update {
        key,
        changes: vec![
            Change::Set("done".into(), true.into()),
            Change::Remove(GSI1PK.into()),
            Change::Remove(GSI1SK.into()),
        ],
        cond: Some(Cond::eq("done", false)),
    }
}
