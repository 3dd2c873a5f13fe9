//! `Records` cases: single writes, conditions and transactions.

use serde_json::{Value, json};

use super::item;
use crate::ports::records::{Change, Cond, Key, MAX_TRANSACTION_ITEMS, RecordError, Records, Write};

fn key(sk: &str) -> Key {
    Key::new("CASE#1", sk)
}

async fn must_get(r: &dyn Records, k: &Key) -> crate::ports::Item {
    r.get(k).await.expect("get").unwrap_or_else(|| panic!("{k:?} should exist"))
}

/// A failed condition must name the write; `current`, when the backend
/// returns it, must be the item as it stood.
fn assert_failed(result: Result<impl std::fmt::Debug, RecordError>, index: usize, current: Option<&Value>) {
    match result {
        Err(RecordError::ConditionFailed { index: got, current: found }) => {
            assert_eq!(got, index, "failing write index");
            if let (Some(found), Some(expected)) = (found, current) {
                assert_eq!(&Value::Object(found), expected, "current item");
            }
        }
        other => panic!("expected ConditionFailed at {index}, got {other:?}"),
    }
}

pub async fn put_get_round_trip(r: &dyn Records) {
    let stored = json!({
        "pk": "CASE#1", "sk": "A", "name": "bronze", "count": 42, "negative": -7,
        "millis": 1_700_000_000_123_i64, "ratio": 2.5, "flag": true, "none": null, "empty": "",
        "nested": {"list": [1, "two", {"three": 3}], "map": {"a": {"b": [false]}}},
    });
    r.put(item(stored.clone()), None).await.expect("put");
    assert_eq!(Value::Object(must_get(r, &key("A")).await), stored);
    assert_eq!(r.get(&key("B")).await.expect("get missing"), None);
    // A plain put replaces the whole item.
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "other": 1})), None).await.expect("overwrite");
    assert_eq!(Value::Object(must_get(r, &key("A")).await), json!({"pk": "CASE#1", "sk": "A", "other": 1}));
}

pub async fn conditional_put_not_exists(r: &dyn Records) {
    let first = json!({"pk": "CASE#1", "sk": "A", "v": 1});
    r.put(item(first.clone()), Some(Cond::NotExists)).await.expect("first put");
    let second = r.put(item(json!({"pk": "CASE#1", "sk": "A", "v": 2})), Some(Cond::NotExists)).await;
    assert_failed(second, 0, Some(&first));
    assert_eq!(Value::Object(must_get(r, &key("A")).await), first, "loser must not write");
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "v": 3})), Some(Cond::Exists)).await.expect("put if exists");
}

pub async fn guarded_update_eq_and_ge(r: &dyn Records) {
    let k = key("A");
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "state": "pending", "stock": 5})), None).await.expect("put");
    let updated = r
        .update(&k, vec![Change::Set("state".into(), json!("paid"))], Some(Cond::eq("state", "pending")))
        .await
        .expect("guard holds");
    assert_eq!(updated.get("state"), Some(&json!("paid")));
    assert_eq!(updated.get("stock"), Some(&json!(5)), "update returns the whole item");
    let stale = r.update(&k, vec![Change::Set("state".into(), json!("pending"))], Some(Cond::eq("state", "pending")));
    assert_failed(stale.await, 0, None);
    let take = |n: i64| vec![Change::Add("stock".into(), -n)];
    let after = r.update(&k, take(5), Some(Cond::Ge("stock".into(), 5))).await.expect("enough stock");
    assert_eq!(after.get("stock"), Some(&json!(0)));
    assert_failed(r.update(&k, take(1), Some(Cond::Ge("stock".into(), 1))).await, 0, None);
    assert_eq!(must_get(r, &k).await.get("stock"), Some(&json!(0)), "failed update writes nothing");
    r.update(&k, take(-2), Some(Cond::Le("stock".into(), 0))).await.expect("le holds");
}

pub async fn conditions_compose(r: &dyn Records) {
    let k = key("A");
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "state": "paid", "n": 3})), None).await.expect("put");
    let touch = || vec![Change::Add("touched".into(), 1)];
    let passing = [
        Cond::In("state".into(), vec![json!("paid"), json!("fulfilled")]),
        Cond::Ne("state".into(), json!("refunded")),
        Cond::Ne("missing".into(), json!(1)),
        Cond::Absent("missing".into()),
        Cond::And(vec![Cond::Exists, Cond::Ge("n".into(), 3), Cond::Le("n".into(), 3)]),
        Cond::Or(vec![Cond::eq("state", "nope"), Cond::eq("n", 3)]),
    ];
    for cond in passing {
        r.update(&k, touch(), Some(cond.clone())).await.unwrap_or_else(|e| panic!("{cond:?} should hold: {e:?}"));
    }
    let failing = [
        Cond::In("state".into(), vec![json!("pending")]),
        Cond::In("missing".into(), vec![json!(1)]),
        Cond::Ne("state".into(), json!("paid")),
        Cond::Absent("state".into()),
        Cond::eq("missing", 1),
        Cond::Ge("state".into(), 0),
        Cond::And(vec![Cond::Exists, Cond::eq("n", 4)]),
        Cond::Or(vec![Cond::NotExists, Cond::eq("n", 4)]),
    ];
    for cond in failing {
        assert_failed(r.update(&k, touch(), Some(cond)).await, 0, None);
    }
    assert_eq!(must_get(r, &k).await.get("touched"), Some(&json!(6)));
}

pub async fn add_on_missing_attribute(r: &dyn Records) {
    let k = key("A");
    r.put(item(json!({"pk": "CASE#1", "sk": "A"})), None).await.expect("put");
    let after = r.update(&k, vec![Change::Add("n".into(), 3)], None).await.expect("add");
    assert_eq!(after.get("n"), Some(&json!(3)));
    let after = r.update(&k, vec![Change::Add("n".into(), -1)], None).await.expect("add");
    assert_eq!(after.get("n"), Some(&json!(2)));
    let mixed = vec![Change::Set("s".into(), json!("x")), Change::Remove("n".into()), Change::Add("m".into(), 1)];
    let after = r.update(&k, mixed, None).await.expect("several changes");
    assert_eq!(Value::Object(after), json!({"pk": "CASE#1", "sk": "A", "s": "x", "m": 1}));
}

pub async fn update_upserts(r: &dyn Records) {
    let guarded = r.update(&key("B"), vec![Change::Set("a".into(), json!(1))], Some(Cond::Exists)).await;
    assert_failed(guarded, 0, None);
    assert_eq!(r.get(&key("B")).await.expect("get"), None, "a failed guard creates nothing");
    let created = r.update(&key("A"), vec![Change::Set("a".into(), json!(1))], None).await.expect("upsert");
    let expected = json!({"pk": "CASE#1", "sk": "A", "a": 1});
    assert_eq!(Value::Object(created), expected);
    assert_eq!(Value::Object(must_get(r, &key("A")).await), expected);
}

pub async fn delete_with_condition(r: &dyn Records) {
    let k = key("A");
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "state": "a"})), None).await.expect("put");
    assert_failed(r.delete(&k, Some(Cond::eq("state", "b"))).await, 0, None);
    assert!(r.get(&k).await.expect("get").is_some(), "failed delete keeps the item");
    r.delete(&k, Some(Cond::eq("state", "a"))).await.expect("guarded delete");
    assert_eq!(r.get(&k).await.expect("get"), None);
    r.delete(&k, None).await.expect("deleting a missing item is fine");
    assert_failed(r.delete(&k, Some(Cond::Exists)).await, 0, None);
}

pub async fn transaction_is_all_or_nothing(r: &dyn Records) {
    let existing = json!({"pk": "CASE#1", "sk": "C", "v": "old"});
    r.put(item(existing.clone()), None).await.expect("put C");
    r.put(item(json!({"pk": "CASE#1", "sk": "D"})), None).await.expect("put D");
    r.put(item(json!({"pk": "CASE#1", "sk": "B", "n": 1})), None).await.expect("put B");
    let writes = |c_cond: Cond| {
        vec![
            Write::Put { item: item(json!({"pk": "CASE#1", "sk": "A"})), cond: Some(Cond::NotExists) },
            Write::Update { key: key("B"), changes: vec![Change::Add("n".into(), 1)], cond: None },
            Write::Put { item: item(json!({"pk": "CASE#1", "sk": "C", "v": "new"})), cond: Some(c_cond) },
            Write::Delete { key: key("D"), cond: None },
        ]
    };
    assert_failed(r.transact(writes(Cond::NotExists)).await, 2, Some(&existing));
    assert_eq!(r.get(&key("A")).await.expect("get"), None, "write 0 rolled back");
    assert_eq!(must_get(r, &key("B")).await.get("n"), Some(&json!(1)), "write 1 rolled back");
    assert_eq!(Value::Object(must_get(r, &key("C")).await), existing, "write 2 not applied");
    assert!(r.get(&key("D")).await.expect("get").is_some(), "write 3 rolled back");

    r.transact(writes(Cond::eq("v", "old"))).await.expect("transaction");
    assert!(r.get(&key("A")).await.expect("get").is_some());
    assert_eq!(must_get(r, &key("B")).await.get("n"), Some(&json!(2)));
    assert_eq!(must_get(r, &key("C")).await.get("v"), Some(&json!("new")));
    assert_eq!(r.get(&key("D")).await.expect("get"), None);
}

pub async fn transaction_check_write(r: &dyn Records) {
    r.put(item(json!({"pk": "CASE#1", "sk": "GATE", "open": true})), None).await.expect("put");
    let guarded = |open: bool| {
        vec![
            Write::Check { key: key("GATE"), cond: Cond::eq("open", open) },
            Write::Put { item: item(json!({"pk": "CASE#1", "sk": "A"})), cond: None },
        ]
    };
    assert_failed(r.transact(guarded(false)).await, 0, None);
    assert_eq!(r.get(&key("A")).await.expect("get"), None);
    r.transact(guarded(true)).await.expect("check passes");
    assert!(r.get(&key("A")).await.expect("get").is_some());
    let gate = must_get(r, &key("GATE")).await;
    assert_eq!(Value::Object(gate), json!({"pk": "CASE#1", "sk": "GATE", "open": true}), "a check writes nothing");
}

pub async fn transaction_rejects_same_key_twice(r: &dyn Records) {
    let writes = vec![
        Write::Put { item: item(json!({"pk": "CASE#1", "sk": "A"})), cond: None },
        Write::Update { key: key("A"), changes: vec![Change::Add("n".into(), 1)], cond: None },
    ];
    match r.transact(writes).await {
        Err(RecordError::Invalid(_)) => {}
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(r.get(&key("A")).await.expect("get"), None);
}

pub async fn transaction_rejects_too_many_writes(r: &dyn Records) {
    let writes: Vec<Write> = (0..=MAX_TRANSACTION_ITEMS)
        .map(|i| Write::Put { item: item(json!({"pk": "CASE#1", "sk": format!("{i:03}")})), cond: None })
        .collect();
    match r.transact(writes).await {
        Err(RecordError::Invalid(_)) => {}
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(r.get(&key("000")).await.expect("get"), None);
}

pub async fn invalid_items_are_rejected(r: &dyn Records) {
    let bad = [json!({"pk": "CASE#1"}), json!({"pk": 1, "sk": "A"}), json!({"pk": "CASE#1", "sk": "A", "gsi1pk": 5})];
    for value in bad {
        match r.put(item(value.clone()), None).await {
            Err(RecordError::Invalid(_)) => {}
            other => panic!("{value} should be Invalid, got {other:?}"),
        }
    }
    let rekey = r.update(&key("A"), vec![Change::Set("sk".into(), json!("B"))], None).await;
    assert!(matches!(rekey, Err(RecordError::Invalid(_))), "the key cannot change: {rekey:?}");
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "n": "text"})), None).await.expect("put");
    let add = r.update(&key("A"), vec![Change::Add("n".into(), 1)], None).await;
    assert!(matches!(add, Err(RecordError::Invalid(_))), "adding to a string: {add:?}");
}

pub async fn ttl_is_a_number(r: &dyn Records) {
    let future = 4_102_444_800_i64; // 2100-01-01
    r.put(item(json!({"pk": "CASE#1", "sk": "A", "ttl": future})), None).await.expect("put");
    assert_eq!(must_get(r, &key("A")).await.get("ttl").and_then(Value::as_i64), Some(future));
    // Reads never hide expired items (DynamoDB also never schedule a ttl this old).
    r.put(item(json!({"pk": "CASE#1", "sk": "B", "ttl": 1})), None).await.expect("put expired");
    assert_eq!(must_get(r, &key("B")).await.get("ttl").and_then(Value::as_i64), Some(1));
}
