//! Pure parts of the record store: condition evaluation, update changes and
//! the validation DynamoDB would do (key attributes, index attributes, size).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Number, Value};

use crate::ports::records::{Change, Cond, GSI1PK, GSI1SK, Item, Key, PK, RecordError, SK};

/// DynamoDB's item size limit; the JSON text is a close enough measure.
pub(super) const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Whether `cond` holds for the item as it stands (`None`: no item).
pub(super) fn holds(cond: &Cond, item: Option<&Item>) -> bool {
    let attr = |name: &str| item.and_then(|i| i.get(name));
    match cond {
        Cond::Exists => item.is_some(),
        Cond::NotExists => item.is_none(),
        Cond::Eq(name, v) => attr(name).is_some_and(|a| same(a, v)),
        Cond::Ne(name, v) => !attr(name).is_some_and(|a| same(a, v)),
        Cond::Ge(name, v) => number_cmp(attr(name), *v).is_some_and(|o| o != Ordering::Less),
        Cond::Le(name, v) => number_cmp(attr(name), *v).is_some_and(|o| o != Ordering::Greater),
        Cond::In(name, vs) => attr(name).is_some_and(|a| vs.iter().any(|v| same(a, v))),
        Cond::Absent(name) => attr(name).is_none(),
        Cond::And(cs) => cs.iter().all(|c| holds(c, item)),
        Cond::Or(cs) => cs.iter().any(|c| holds(c, item)),
    }
}

/// Equality as DynamoDB sees it: numbers compare by value (1 == 1.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

/// A non-number attribute never compares (DynamoDB: types differ, false).
fn number_cmp(attr: Option<&Value>, v: i64) -> Option<Ordering> {
    match attr? {
        Value::Number(n) => cmp_numbers(n, &Number::from(v)),
        _ => None,
    }
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Checks an update's changes before touching anything: the key cannot
/// change, index attributes must stay non-empty strings, and no attribute
/// may be named twice (DynamoDB: overlapping document paths).
pub(super) fn check_changes(changes: &[Change]) -> Result<(), RecordError> {
    let mut seen = HashSet::new();
    for change in changes {
        let name = match change {
            Change::Set(n, _) | Change::Add(n, _) | Change::Remove(n) => n.as_str(),
        };
        if name.is_empty() {
            return Err(invalid("empty attribute name"));
        }
        if name == PK || name == SK {
            return Err(invalid(format!("cannot change key attribute {name}")));
        }
        if !seen.insert(name) {
            return Err(invalid(format!("attribute {name} changed twice")));
        }
        if name == GSI1PK || name == GSI1SK {
            match change {
                Change::Set(_, Value::String(s)) if !s.is_empty() => {}
                Change::Remove(_) => {}
                _ => return Err(invalid(format!("{name} must be a non-empty string"))),
            }
        }
    }
    Ok(())
}

/// The item after `changes`; a missing item starts as just its key.
pub(super) fn apply_changes(current: Option<Item>, key: &Key, changes: Vec<Change>) -> Result<Item, RecordError> {
    let mut item = current.unwrap_or_else(|| {
        let mut fresh = Item::new();
        fresh.insert(PK.to_string(), Value::String(key.pk.clone()));
        fresh.insert(SK.to_string(), Value::String(key.sk.clone()));
        fresh
    });
    for change in changes {
        match change {
            Change::Set(name, value) => {
                item.insert(name, value);
            }
            Change::Remove(name) => {
                item.remove(&name);
            }
            Change::Add(name, delta) => {
                let sum = add(item.get(&name), delta).ok_or_else(|| invalid(format!("cannot add to {name}")))?;
                item.insert(name, Value::Number(sum));
            }
        }
    }
    Ok(item)
}

/// `None` when the attribute is not a number or the sum overflows.
fn add(current: Option<&Value>, delta: i64) -> Option<Number> {
    let n = match current {
        None => return Some(Number::from(delta)),
        Some(Value::Number(n)) => n,
        Some(_) => return None,
    };
    match as_i128(n) {
        Some(x) => {
            let sum = x.checked_add(i128::from(delta))?;
            i64::try_from(sum).map(Number::from).ok().or_else(|| u64::try_from(sum).ok().map(Number::from))
        }
        None => Number::from_f64(n.as_f64()? + delta as f64),
    }
}

/// The key of an item about to be stored, after checking what DynamoDB
/// checks: string non-empty key and index attributes, size.
pub(super) fn check_item(item: &Item) -> Result<Key, RecordError> {
    let key = Key::of(item).ok_or_else(|| invalid("item needs string pk and sk"))?;
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(invalid("pk and sk must not be empty"));
    }
    for name in [GSI1PK, GSI1SK] {
        match item.get(name) {
            None => {}
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(invalid(format!("{name} must be a non-empty string"))),
        }
    }
    Ok(key)
}

pub(super) fn check_key(key: &Key) -> Result<(), RecordError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(invalid("pk and sk must not be empty"));
    }
    Ok(())
}

/// The item's place in the secondary index, if it has both attributes.
pub(super) fn gsi_entry(item: &Item) -> Option<(String, String)> {
    let g = item.get(GSI1PK)?.as_str()?;
    let s = item.get(GSI1SK)?.as_str()?;
    Some((g.to_string(), s.to_string()))
}

pub(super) fn invalid(reason: impl Into<String>) -> RecordError {
    RecordError::Invalid(reason.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(v: Value) -> Item {
        match v {
            Value::Object(m) => m,
            _ => Item::new(),
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        let it = item(json!({"n": 5, "f": 2.0, "s": "5"}));
        assert!(holds(&Cond::eq("f", 2), Some(&it)));
        assert!(holds(&Cond::Ge("n".into(), 5), Some(&it)));
        assert!(!holds(&Cond::Ge("n".into(), 6), Some(&it)));
        assert!(!holds(&Cond::Le("s".into(), 9), Some(&it)), "strings are not numbers");
        assert!(holds(&Cond::Ne("missing".into(), json!(1)), Some(&it)));
    }

    #[test]
    fn add_handles_missing_float_and_overflow() {
        assert_eq!(add(None, 3), Some(Number::from(3)));
        assert_eq!(add(Some(&json!(1.5)), 1).and_then(|n| n.as_f64()), Some(2.5));
        assert_eq!(add(Some(&json!(i64::MAX)), 1), Some(Number::from(i64::MAX as u64 + 1)));
        assert_eq!(add(Some(&json!(u64::MAX)), 1), None);
        assert_eq!(add(Some(&json!("x")), 1), None);
    }

    #[test]
    fn changes_may_not_touch_the_key_or_repeat() {
        assert!(check_changes(&[Change::Set(PK.into(), json!("x"))]).is_err());
        assert!(check_changes(&[Change::Add("a".into(), 1), Change::Remove("a".into())]).is_err());
        assert!(check_changes(&[Change::Set(GSI1PK.into(), json!(1))]).is_err());
        assert!(check_changes(&[Change::Remove(GSI1PK.into()), Change::Add("n".into(), 1)]).is_ok());
    }
}
