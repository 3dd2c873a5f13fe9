//! The indexed listing of `DirFiles` against the directory itself: files
//! copied in or removed by hand, pages across concurrent moves, and large
//! listings compared with a fresh read of the tree.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};

use super::files_list::naive;
use super::*;
use crate::ports::Files;

async fn list_all(f: &dyn Files, prefix: &str, limit: usize) -> Vec<String> {
    let (mut keys, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = f.list(prefix, after.as_deref(), limit).await.expect("list");
        assert!(page.keys.len() <= limit);
        keys.extend(page.keys);
        match page.next {
            Some(next) => after = Some(next),
            None => return keys,
        }
    }
}

fn by_hand(root: &Path, key: &str) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"by hand").unwrap();
}

/// Lets the clock pass the directory timestamps' granularity (a tick), so a
/// change by hand gets a timestamp unlike the one its directory's copy was
/// checked against. Without it the change is still listed, within about a
/// second (see `a_racy_copy_is_read_again` in files_index.rs).
async fn next_tick() {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

/// Longer than a racy copy is trusted.
async fn racy_reread() {
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
}

fn ascending_once(keys: &[String]) -> bool {
    keys.windows(2).all(|w| w[0] < w[1])
}

#[tokio::test]
async fn files_added_or_removed_by_hand_are_listed_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let f = DirFiles::open(dir.path()).unwrap();
    for i in 0..50 {
        f.put(&format!("unused/a-{i:03}"), b"s".to_vec(), true).await.unwrap();
    }
    assert_eq!(list_all(&f, "unused/", 7).await.len(), 50, "the copy is built");
    // Copied in, also into a new directory, and one removed by hand.
    next_tick().await;
    by_hand(dir.path(), "unused/a-025x");
    by_hand(dir.path(), "unused/zz-by-hand");
    by_hand(dir.path(), "assigned/u9/copied");
    std::fs::remove_file(dir.path().join("unused/a-000")).unwrap();
    let listed = list_all(&f, "unused/", 7).await;
    assert_eq!(listed.len(), 51);
    assert!(listed.contains(&"unused/a-025x".to_string()) && listed.contains(&"unused/zz-by-hand".to_string()));
    assert!(!listed.contains(&"unused/a-000".to_string()));
    assert_eq!(list_all(&f, "assigned/", 7).await, ["assigned/u9/copied"]);
    assert_eq!(list_all(&f, "", 1000).await.len(), 52);
    // A cursor page straight after a hand copy ahead of the cursor.
    let page = f.list("unused/", Some("unused/a-048"), 10).await.unwrap();
    next_tick().await;
    by_hand(dir.path(), "unused/a-048b");
    let again = f.list("unused/", Some("unused/a-048"), 10).await.unwrap();
    assert_eq!(page.keys, ["unused/a-049", "unused/zz-by-hand"]);
    assert_eq!(again.keys, ["unused/a-048b", "unused/a-049", "unused/zz-by-hand"]);
    // Another handle on the same directory (another function in this
    // process) sees this one's writes at once.
    let other = DirFiles::open(dir.path()).unwrap();
    f.move_file("unused/a-001", "banned/a-001").await.unwrap();
    assert_eq!(list_all(&other, "banned/", 10).await, ["banned/a-001"]);
}

/// A rename by hand keeps the directory's size, and here its mtime is put
/// back too: the change still shows (in ctime, or as a racy copy read again).
#[tokio::test]
async fn a_rename_by_hand_with_the_mtime_put_back_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let f = DirFiles::open(dir.path()).unwrap();
    f.put("unused/a", b"s".to_vec(), true).await.unwrap();
    assert_eq!(list_all(&f, "unused/", 10).await, ["unused/a"]);
    // Renamed by hand, then the directory's timestamps put back: nothing in
    // its status changed (a rename keeps the size on most file systems).
    let unused = dir.path().join("unused");
    next_tick().await;
    let stamp = std::fs::metadata(&unused).unwrap().modified().unwrap();
    std::fs::rename(unused.join("a"), unused.join("b")).unwrap();
    std::fs::File::open(&unused).unwrap().set_modified(stamp).unwrap();
    let mut listed = list_all(&f, "unused/", 10).await;
    for _ in 0..15 {
        if listed == ["unused/b"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        listed = list_all(&f, "unused/", 10).await;
    }
    assert_eq!(listed, ["unused/b"], "the racy copy was read again");
}

#[tokio::test]
async fn pages_across_concurrent_moves_list_every_unmoved_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = Arc::new(DirFiles::open(dir.path()).unwrap());
    let n = 3000;
    let keys: Vec<String> = (0..n).map(|i| format!("unused/f-{:05}", (i * 7919) % n)).collect();
    for chunk in keys.chunks(500) {
        let puts = chunk.iter().map(|k| f.put(k, b"s".to_vec(), true)).collect();
        for r in crate::testkit::join_all(puts).await {
            r.unwrap();
        }
    }
    // Every third file moves out (through the adapter, or by hand), into
    // user directories that sort before and after unused/, while another
    // task pages through unused/ and assigned/.
    let movers: BTreeSet<String> = keys.iter().filter(|k| k.ends_with(['0', '3', '6'])).cloned().collect();
    let mover = {
        let (f, movers, root) = (f.clone(), movers.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            for (i, key) in movers.iter().rev().enumerate() {
                let name = key.trim_start_matches("unused/");
                match i % 3 {
                    0 => f.move_file(key, &format!("assigned/u{}/{name}", i % 17)).await.unwrap(),
                    1 => f.move_file(key, &format!("zfrozen/{name}")).await.unwrap(),
                    _ => std::fs::rename(root.join(key), root.join(format!("banned/{name}"))).unwrap(),
                }
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut scans = 0;
    loop {
        let listed = list_all(f.as_ref(), "unused/", 37).await;
        assert!(ascending_once(&listed), "ascending, no key twice");
        let seen: BTreeSet<&String> = listed.iter().collect();
        for key in &keys {
            assert!(movers.contains(key) || seen.contains(key), "{key} never moved but was not listed");
        }
        for key in &listed {
            assert!(keys.contains(key), "{key} listed but never under unused/");
        }
        let all = list_all(f.as_ref(), "", 101).await;
        assert!(ascending_once(&all));
        scans += 1;
        if mover.is_finished() {
            break;
        }
    }
    mover.await.unwrap();
    assert!(scans > 0);
    // A rename by hand in the same timestamp tick as a page's read shows
    // when the racy copy is read again.
    racy_reread().await;
    let left = list_all(f.as_ref(), "unused/", 37).await;
    assert_eq!(left.len(), n - movers.len());
    assert_eq!(list_all(f.as_ref(), "", 1000).await.len(), n, "every file somewhere, once");
    assert_eq!(list_all(f.as_ref(), "", 1000).await, naive::list(dir.path(), "", None, n + 1).unwrap());
}

#[tokio::test]
async fn pages_of_10k_files_cover_every_file_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = DirFiles::open(dir.path()).unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..10_000u32 {
        // Half put through the adapter, half by hand; a tenth under users.
        let name = format!("acct-{:08x}-{i}.session", i.wrapping_mul(2_654_435_761));
        let key = if i % 10 == 0 { format!("assigned/u{}/{name}", i % 97) } else { format!("unused/{name}") };
        if i % 2 == 0 {
            f.put(&key, b"s".to_vec(), true).await.unwrap();
        } else {
            by_hand(dir.path(), &key);
        }
        expected.insert(key);
    }
    let expected: Vec<String> = expected.into_iter().collect();
    for limit in [1000, 999, 64] {
        assert_eq!(list_all(&f, "", limit).await, expected, "pages of {limit}");
    }
    let unused: Vec<&String> = expected.iter().filter(|k| k.starts_with("unused/")).collect();
    assert_eq!(list_all(&f, "unused/", 1000).await.iter().collect::<Vec<_>>(), unused);
    let assigned = list_all(&f, "assigned/", 333).await;
    assert_eq!(assigned.len(), 1000);
    assert_eq!(assigned, naive::list(dir.path(), "assigned/", None, 2000).unwrap());
}

/// Random writes through the adapter and by hand, random prefixes and
/// cursors: every page equals a fresh read of the tree.
#[tokio::test]
async fn pages_match_a_fresh_read_of_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let f = DirFiles::open(root).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    let names = ["a", "b", "b-1", "c/x", "c/y", "c-", "d/e/f", "d/e/g", "d/ee", "u1/k", "u10/k", "u1-z"];
    let prefixes = ["", "unused/", "unused/c", "unused/c/", "unused/d/e", "unused/u1", "assigned/", "assigned/u1/"];
    for step in 0..600 {
        let top = ["unused", "assigned", "banned"][rng.random_range(0..3)];
        let key = format!("{top}/{}", names[rng.random_range(0..names.len())]);
        match rng.random_range(0..6) {
            0 => drop(f.put(&key, b"s".to_vec(), false).await),
            1 => drop(f.delete(&key).await),
            2 => {
                let to = format!(
                    "{}/{}",
                    ["unused", "assigned"][rng.random_range(0..2)],
                    names[rng.random_range(0..names.len())]
                );
                drop(f.move_file(&key, &to).await);
            }
            3 if !root.join(&key).is_dir() => {
                let path = root.join(&key);
                if std::fs::create_dir_all(path.parent().unwrap()).is_ok() {
                    let _ = std::fs::write(&path, b"h");
                }
            }
            4 => drop(std::fs::remove_file(root.join(&key))),
            _ => {}
        }
        let prefix = prefixes[rng.random_range(0..prefixes.len())];
        let fresh = naive::list(root, prefix, None, 1000).unwrap();
        let after = if fresh.is_empty() || rng.random_bool(0.3) {
            None
        } else {
            Some(fresh[rng.random_range(0..fresh.len())].clone())
        };
        let limit = rng.random_range(1..6);
        let page = f.list(prefix, after.as_deref(), limit).await.unwrap();
        assert_eq!(
            page.keys,
            naive::list(root, prefix, after.as_deref(), limit).unwrap(),
            "step {step}: {prefix} after {after:?}"
        );
    }
}
