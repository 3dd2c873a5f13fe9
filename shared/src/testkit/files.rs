//! `Files` cases: put/head, listing and pagination, idempotent moves.

use super::join_all;
use crate::ports::files::{FileError, Files};

async fn list_all(f: &dyn Files, prefix: &str, limit: usize) -> (Vec<String>, Vec<usize>) {
    let (mut keys, mut sizes, mut after) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let page = f.list(prefix, after.as_deref(), limit).await.expect("list");
        assert!(page.keys.len() <= limit, "page larger than the limit");
        sizes.push(page.keys.len());
        keys.extend(page.keys);
        assert!(sizes.len() <= 100, "listing does not end");
        after = page.next;
        if after.is_none() {
            return (keys, sizes);
        }
    }
}

async fn size_of(f: &dyn Files, key: &str) -> Option<u64> {
    f.head(key).await.expect("head").map(|meta| {
        assert_eq!(meta.key, key);
        meta.size
    })
}

pub async fn put_head_round_trip(f: &dyn Files) {
    f.put("unused/a.session", vec![1, 2, 3], false).await.expect("put");
    assert_eq!(size_of(f, "unused/a.session").await, Some(3));
    assert_eq!(size_of(f, "unused/missing.session").await, None);
    f.put("unused/a.session", vec![9; 10], false).await.expect("overwrite");
    assert_eq!(size_of(f, "unused/a.session").await, Some(10));
    f.put("assigned/u1/deep.session", vec![], false).await.expect("put under a new prefix");
    assert_eq!(size_of(f, "assigned/u1/deep.session").await, Some(0));
}

pub async fn put_if_absent_refuses_existing(f: &dyn Files) {
    f.put("unused/a.session", vec![1, 2, 3], true).await.expect("first put");
    match f.put("unused/a.session", vec![4], true).await {
        Err(FileError::Exists(_)) => {}
        other => panic!("expected Exists, got {other:?}"),
    }
    assert_eq!(size_of(f, "unused/a.session").await, Some(3), "the original stays");
}

pub async fn list_paginates_2500_keys(f: &dyn Files) {
    let keys: Vec<String> = (0..2500).map(|i| format!("unused/acct-{i:05}.session")).collect();
    for chunk in keys.chunks(100) {
        for result in join_all(chunk.iter().map(|k| f.put(k, b"s".to_vec(), false)).collect()).await {
            result.expect("put");
        }
    }
    f.put("frozen/acct-x.session", b"s".to_vec(), false).await.expect("put elsewhere");
    let (listed, sizes) = list_all(f, "unused/", 1000).await;
    assert_eq!(listed, keys, "every key once, ascending");
    assert_eq!(sizes[..3], [1000, 1000, 500], "full pages until the last");
    let first = f.list("unused/", None, 1000).await.expect("list");
    assert_eq!(first.next.as_deref(), Some("unused/acct-00999.session"), "next is the last key");
    let after = f.list("unused/", Some("unused/acct-02497.session"), 1000).await.expect("list tail");
    assert_eq!(after.keys, ["unused/acct-02498.session", "unused/acct-02499.session"]);
    assert_eq!(after.next, None);
}

pub async fn list_spans_user_prefixes(f: &dyn Files) {
    let keys = ["assigned/u1/a", "assigned/u1/b", "assigned/u10/x", "assigned/u2/a", "unused/z", "banned/u1"];
    for key in keys {
        f.put(key, b"s".to_vec(), false).await.expect("put");
    }
    let expected = ["assigned/u1/a", "assigned/u1/b", "assigned/u10/x", "assigned/u2/a"];
    assert_eq!(list_all(f, "assigned/", 1000).await.0, expected);
    assert_eq!(list_all(f, "assigned/", 1).await.0, expected, "one key a page");
    assert_eq!(list_all(f, "assigned/u1/", 10).await.0, ["assigned/u1/a", "assigned/u1/b"]);
    assert_eq!(list_all(f, "assigned/u1", 10).await.0, ["assigned/u1/a", "assigned/u1/b", "assigned/u10/x"]);
    assert!(list_all(f, "assigned/u3/", 10).await.0.is_empty());
    assert_eq!(list_all(f, "", 10).await.0.len(), keys.len());
}

pub async fn move_is_idempotent(f: &dyn Files) {
    f.put("unused/a.session", vec![1, 2], false).await.expect("put");
    f.move_file("unused/a.session", "assigned/u1/a.session").await.expect("move");
    assert_eq!(size_of(f, "unused/a.session").await, None);
    assert_eq!(size_of(f, "assigned/u1/a.session").await, Some(2));
    f.move_file("unused/a.session", "assigned/u1/a.session").await.expect("a retried move succeeds");
    assert_eq!(size_of(f, "assigned/u1/a.session").await, Some(2));
    match f.move_file("unused/nothing.session", "assigned/u1/nothing.session").await {
        Err(FileError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Copied but not yet deleted: moving again finishes the job.
    f.put("unused/b.session", vec![7], false).await.expect("put src");
    f.put("banned/b.session", vec![7], false).await.expect("put dst");
    f.move_file("unused/b.session", "banned/b.session").await.expect("finish half move");
    assert_eq!(size_of(f, "unused/b.session").await, None);
    assert_eq!(size_of(f, "banned/b.session").await, Some(1));
    assert_eq!(list_all(f, "unused/", 10).await.0, Vec::<String>::new());
}

pub async fn delete_missing_is_ok(f: &dyn Files) {
    f.delete("unused/never.session").await.expect("deleting a missing key");
    f.put("unused/a.session", vec![1], false).await.expect("put");
    f.delete("unused/a.session").await.expect("delete");
    assert_eq!(size_of(f, "unused/a.session").await, None);
    assert!(f.list("unused/", None, 10).await.expect("list").keys.is_empty());
    f.delete("unused/a.session").await.expect("deleting twice");
}
