//! Edge cases of the embedded adapters beyond the shared conformance suite.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ports::clock::OffsetClock;
use crate::ports::records::{Change, Cond, Index, Key, Query, RecordError, SkRange, Write};
use crate::ports::{FileError, Files, Queue, QueueError, Records};
use crate::testkit::item;

fn open(dir: &Path) -> (Embedded, Arc<OffsetClock>) {
    let clock = Arc::new(OffsetClock::default());
    (open_embedded(dir, clock.clone()).unwrap(), clock)
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (e, _) = open(dir.path());
        e.records.put(item(json!({"pk": "P", "sk": "S", "gsi1pk": "G", "gsi1sk": "1"})), None).await.unwrap();
        e.fulfil.send("job".into()).await.unwrap();
        e.files.put("unused/a.session", b"abc".to_vec(), true).await.unwrap();
    }
    let (e, _) = open(dir.path());
    assert!(e.records.get(&Key::new("P", "S")).await.unwrap().is_some());
    assert_eq!(e.records.query(Query::new(Index::Gsi1, "G")).await.unwrap().items.len(), 1);
    assert!(e.events.receive(10, Duration::from_secs(30)).await.unwrap().is_empty(), "queues are separate");
    assert_eq!(e.fulfil.receive(10, Duration::from_secs(30)).await.unwrap()[0].body, "job");
    assert_eq!(e.files.head("unused/a.session").await.unwrap().map(|m| m.size), Some(3));
    for prefix in STOCK_PREFIXES {
        assert!(dir.path().join(FILES_DIR).join(prefix).is_dir(), "{prefix}/ exists");
    }
}

#[tokio::test]
async fn condition_failures_carry_the_current_item() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    let stored = item(json!({"pk": "P", "sk": "S", "v": 1}));
    e.records.put(stored.clone(), None).await.unwrap();
    let writes = vec![
        Write::Check { key: Key::new("P", "T"), cond: Cond::NotExists },
        Write::Update {
            key: Key::new("P", "S"),
            changes: vec![Change::Add("v".into(), 1)],
            cond: Some(Cond::NotExists),
        },
    ];
    match e.records.transact(writes).await {
        Err(RecordError::ConditionFailed { index: 1, current }) => assert_eq!(current, Some(stored)),
        other => panic!("unexpected {other:?}"),
    }
    e.records.transact(Vec::new()).await.unwrap();
}

#[tokio::test]
async fn malformed_requests_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    let r = &e.records;
    let invalid = |res: Result<_, RecordError>| matches!(res, Err(RecordError::Invalid(_)));
    assert!(invalid(r.get(&Key::new("", "S")).await.map(|_| ())));
    assert!(invalid(r.put(item(json!({"pk": "P", "sk": ""})), None).await));
    assert!(invalid(r.query(Query::new(Index::Table, "P").after(Some("%%".into()))).await.map(|_| ())));
    assert!(invalid(r.query(Query::new(Index::Table, "P").limit(0)).await.map(|_| ())));
    let inverted = Query::new(Index::Table, "P").sk(SkRange::Between("b".into(), "a".into()));
    assert!(invalid(r.query(inverted).await.map(|_| ())));
    let big = item(json!({"pk": "P", "sk": "S", "blob": "x".repeat(401 * 1024)}));
    assert!(invalid(r.put(big, None).await));
    // A table cursor handed to the index does not fit it.
    for i in 0..3 {
        r.put(item(json!({"pk": "P", "sk": format!("{i}"), "gsi1pk": "G", "gsi1sk": "s"})), None).await.unwrap();
    }
    let page = r.query(Query::new(Index::Table, "P").limit(1)).await.unwrap();
    assert!(invalid(r.query(Query::new(Index::Gsi1, "G").after(page.next)).await.map(|_| ())));
}

#[tokio::test]
async fn sweep_removes_only_expired_items_and_their_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    let r = &e.records;
    for (sk, ttl) in [("old", json!(100)), ("now", json!(200)), ("later", json!(300)), ("text", json!("100"))] {
        r.put(item(json!({"pk": "P", "sk": sk, "ttl": ttl, "gsi1pk": "G", "gsi1sk": sk})), None).await.unwrap();
    }
    r.put(item(json!({"pk": "P", "sk": "none"})), None).await.unwrap();
    assert_eq!(r.sweep_expired(200).await.unwrap(), 2);
    let left: Vec<_> = r.query(Query::new(Index::Table, "P")).await.unwrap().items;
    let sks: Vec<_> = left.iter().filter_map(|i| i.get("sk")?.as_str()).collect();
    assert_eq!(sks, ["later", "none", "text"]);
    assert_eq!(r.query(Query::new(Index::Gsi1, "G")).await.unwrap().items.len(), 2);
    assert_eq!(r.sweep_expired(200).await.unwrap(), 0);
}

#[tokio::test]
async fn visibility_follows_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = open(dir.path());
    let q = &e.fulfil;
    q.send("a".into()).await.unwrap();
    let first = q.receive(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(q.receive(10, Duration::from_secs(60)).await.unwrap().is_empty());
    clock.advance(61);
    let second = q.receive(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(second[0].receive_count, 2);
    assert!(q.receive(0, Duration::ZERO).await.unwrap().is_empty());
    // A stale receipt still deletes the message (see the module docs).
    q.delete(&first[0].receipt).await.unwrap();
    clock.advance(61);
    assert!(q.receive(10, Duration::from_secs(60)).await.unwrap().is_empty());
    assert!(matches!(q.delete("not-a-receipt").await, Err(QueueError::BadReceipt)));
}

/// A batch with one malformed receipt is refused whole: nothing deleted.
#[tokio::test]
async fn delete_many_refuses_a_bad_receipt_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = open(dir.path());
    let q = &e.fulfil;
    q.send("a".into()).await.unwrap();
    let got = q.receive(10, Duration::from_secs(60)).await.unwrap();
    let receipts = vec![got[0].receipt.clone(), "not-a-receipt".to_string()];
    assert!(matches!(q.delete_many(&receipts).await, Err(QueueError::BadReceipt)));
    clock.advance(61);
    assert_eq!(q.receive(10, Duration::from_secs(60)).await.unwrap().len(), 1, "the good one was not deleted");
}

#[tokio::test]
async fn a_zero_timeout_never_delivers_twice_in_one_receive() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    for i in 0..3 {
        e.events.send(format!("{i}")).await.unwrap();
    }
    let got = e.events.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 3);
    for _ in 0..MAX_RECEIVES_LEFT {
        assert_eq!(e.events.receive(10, Duration::ZERO).await.unwrap().len(), 3);
    }
    assert!(e.events.receive(10, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(e.events.dead_letter_count().await.unwrap(), 3);
    assert_eq!(e.fulfil.dead_letter_count().await.unwrap(), 0, "dead letters are per queue");
}

const MAX_RECEIVES_LEFT: u32 = crate::ports::queue::MAX_RECEIVES - 1;

#[test]
fn queue_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let records = EmbeddedRecords::open(&dir.path().join("db.redb")).unwrap();
    let clock: Arc<dyn crate::ports::Clock> = Arc::new(OffsetClock::default());
    assert!(EmbeddedQueue::open(records.database(), "bad name", clock.clone()).is_err());
    assert!(EmbeddedQueue::open(records.database(), "", clock).is_err());
}

#[tokio::test]
async fn file_keys_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    let f = &e.files;
    let bad = ["", "/etc/passwd", "unused/../x", "unused//x", "unused/x/", "unused\\x", "unused/.hidden", ".."];
    for key in bad {
        assert!(matches!(f.put(key, vec![1], false).await, Err(FileError::InvalidKey(_))), "{key:?}");
        assert!(matches!(f.head(key).await, Err(FileError::InvalidKey(_))), "{key:?}");
        assert!(matches!(f.move_file("unused/a", key).await, Err(FileError::InvalidKey(_))), "{key:?}");
    }
    assert!(matches!(f.list("../", None, 10).await, Err(FileError::InvalidKey(_))));
    assert!(matches!(f.put(&"a".repeat(1025), vec![], false).await, Err(FileError::InvalidKey(_))));
    f.put("unused/a..b.session", vec![1], false).await.unwrap();
}

#[tokio::test]
async fn files_ignore_temporaries_and_never_move_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = open(dir.path());
    let f = &e.files;
    std::fs::write(dir.path().join("files/unused/.upload.tmp"), b"x").unwrap();
    f.put("assigned/u1/a.session", vec![1], false).await.unwrap();
    assert!(f.list("unused/", None, 10).await.unwrap().keys.is_empty());
    assert!(matches!(f.move_file("assigned/u1", "banned/u1").await, Err(FileError::NotFound(_))));
    assert!(matches!(f.put("assigned/u1", vec![1], false).await, Err(FileError::InvalidKey(_))));
    assert_eq!(f.head("assigned/u1").await.unwrap(), None);
    f.delete("assigned/u1").await.unwrap();
    assert_eq!(f.list("assigned/", None, 10).await.unwrap().keys, ["assigned/u1/a.session"]);
    assert_eq!(f.list("assigned/", None, 0).await.unwrap().keys.len(), 0);
}

/// The record store's files import one way, each only from the layers below
/// it, so a new import that closes a circle fails here.
#[test]
fn the_record_store_files_import_one_way() {
    let layers: [(&str, &str); 5] = [
        ("records_eval", include_str!("records_eval.rs")),
        ("records_table", include_str!("records_table.rs")),
        ("records_query", include_str!("records_query.rs")),
        ("records_write", include_str!("records_write.rs")),
        ("records", include_str!("records.rs")),
    ];
    let rank = |name: &str| match name {
        "records_eval" => 0,
        "records_table" => 1,
        "records_query" | "records_write" => 2,
        "records" => 3,
        _ => unreachable!(),
    };
    for (file, text) in layers {
        let imports = text.lines().filter_map(|l| l.trim().strip_prefix("use super::")).flat_map(|rest| {
            let names = rest.trim_start_matches('{');
            names.split([',', ':', '{', '}', ' ', ';']).filter(|n| n.starts_with("records")).collect::<Vec<_>>()
        });
        for used in imports {
            assert!(rank(used) < rank(file), "{file} imports {used}: the record store's files import one way");
        }
    }
}
