//! Item <-> attribute map (serde_dynamo) and the opaque query cursor.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ports::records::{Change, GSI1PK, GSI1SK, Item, Key, PK, RecordError, SK};

pub(super) type Attrs = HashMap<String, AttributeValue>;

pub(super) fn to_attrs(item: Item) -> Result<Attrs, RecordError> {
    serde_dynamo::to_item(item).map_err(|e| RecordError::Invalid(format!("item not storable: {e}")))
}

/// Items the store hands back; one we cannot read (a binary or set attribute
/// written by another tool) is reported, not guessed at.
pub(super) fn from_attrs(attrs: Attrs) -> Result<Item, RecordError> {
    serde_dynamo::from_item(attrs).map_err(|e| RecordError::Invalid(format!("stored item not readable: {e}")))
}

pub(super) fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The key of an item about to be put. Key and index attributes must be
/// strings; checked here so the answer does not depend on the emulator.
pub(super) fn require_key(item: &Item) -> Result<Key, RecordError> {
    let key = Key::of(item).ok_or_else(|| RecordError::Invalid("item needs string pk and sk".into()))?;
    for attr in [GSI1PK, GSI1SK] {
        if item.get(attr).is_some_and(|v| !v.is_string()) {
            return Err(RecordError::Invalid(format!("{attr} must be a string")));
        }
    }
    Ok(key)
}

/// Changes may not touch the key, and index attributes stay strings.
pub(super) fn check_changes(changes: &[Change]) -> Result<(), RecordError> {
    for change in changes {
        let (attr, ok) = match change {
            Change::Set(a, v) => {
                (a, ![PK, SK].contains(&a.as_str()) && (v.is_string() || ![GSI1PK, GSI1SK].contains(&a.as_str())))
            }
            Change::Add(a, _) => (a, ![PK, SK, GSI1PK, GSI1SK].contains(&a.as_str())),
            Change::Remove(a) => (a, ![PK, SK].contains(&a.as_str())),
        };
        if !ok {
            return Err(RecordError::Invalid(format!("cannot change {attr} that way")));
        }
    }
    Ok(())
}

/// `LastEvaluatedKey` as opaque text: JSON, then URL-safe base64.
pub(super) fn encode_cursor(last: Attrs) -> Result<String, RecordError> {
    let json = serde_json::to_vec(&from_attrs(last)?)
        .map_err(|e| RecordError::Unavailable(anyhow::anyhow!("encoding cursor: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

pub(super) fn decode_cursor(cursor: &str) -> Result<Attrs, RecordError> {
    let bad = |why: String| RecordError::Invalid(format!("bad cursor: {why}"));
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|e| bad(e.to_string()))?;
    let item: Item = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    to_attrs(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_numbers_and_empties() {
        let item = json!({
            "pk": "P", "sk": "S", "big": i64::MAX, "neg": i64::MIN, "f": 1.5, "empty": "",
            "map": {}, "list": [], "nested": {"a": [1, "x", null, true]}, "nothing": null,
        });
        let Some(item) = item.as_object().cloned() else { panic!("object") };
        let attrs = to_attrs(item.clone()).unwrap();
        assert_eq!(attrs["big"], AttributeValue::N(i64::MAX.to_string()));
        assert!(matches!(attrs["map"], AttributeValue::M(_)));
        assert!(matches!(attrs["list"], AttributeValue::L(_)));
        assert_eq!(from_attrs(attrs).unwrap(), item);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let last = key_attrs(&Key::new("a", "b/c"));
        let text = encode_cursor(last.clone()).unwrap();
        assert_eq!(decode_cursor(&text).unwrap(), last);
        assert!(matches!(decode_cursor("not base64!"), Err(RecordError::Invalid(_))));
    }
}
