//! Listing a directory tree as S3 lists keys: every key under a string
//! prefix, in byte order, after `start_after`.
//!
//! Inside one directory a subdirectory `d` sorts as `d/` (its keys all start
//! with that), so a depth-first walk of sorted entries yields keys in byte
//! order. Entries come from the sorted copies in `files_index`: a page finds
//! its start by a B-tree lookup and reads only the entries it returns (and
//! the directories it enters), so a page costs O(page), not O(directory).
//! Subtrees wholly before `start_after` are skipped unread.
//!
//! The walk holds one directory at a time and, after each subdirectory,
//! continues after that subdirectory's entry: like S3, each step sees the
//! tree as it is then, and the cursor is just the last key.

use std::io;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use super::files_index::{Index, lock};

/// Up to `want` keys under `prefix` after `start_after`, ascending.
pub(super) fn list(index: &Index, prefix: &str, start_after: Option<&str>, want: usize) -> io::Result<Vec<String>> {
    let (dir_key, name_start) = match prefix.rsplit_once('/') {
        Some((dirs, partial)) => (format!("{dirs}/"), partial),
        None => (String::new(), prefix),
    };
    let mut out = Vec::new();
    walk(index, &dir_key, name_start, start_after, want, &mut out)?;
    Ok(out)
}

fn walk(
    index: &Index,
    dir_key: &str,
    name_start: &str,
    after: Option<&str>,
    want: usize,
    out: &mut Vec<String>,
) -> io::Result<()> {
    let Some(mut from) = first_entry(dir_key, name_start, after) else { return Ok(()) };
    let dir = index.dir(dir_key);
    while out.len() < want {
        let subdir = {
            let mut guard = lock(&dir);
            // A prefix naming nothing (or naming a file as a directory) lists nothing.
            let Some(snap) = index.fresh(dir_key, &mut guard)? else { return Ok(()) };
            let mut subdir = None;
            for name in snap.names.range::<str, _>((as_str(&from), Unbounded)) {
                if !name.starts_with(name_start) || out.len() >= want {
                    return Ok(());
                }
                if name.ends_with('/') {
                    subdir = Some(name.to_string());
                    break;
                }
                out.push(format!("{dir_key}{name}"));
            }
            match subdir {
                Some(subdir) => subdir,
                None => return Ok(()),
            }
        };
        let key = format!("{dir_key}{subdir}");
        walk(index, &key, "", after.filter(|a| a.starts_with(&key)), want, out)?;
        from = Excluded(subdir);
    }
    Ok(())
}

fn as_str(bound: &Bound<String>) -> Bound<&str> {
    match bound {
        Included(s) => Included(s.as_str()),
        Excluded(s) => Excluded(s.as_str()),
        Unbounded => Unbounded,
    }
}

/// Where the walk of the directory `dir_key` starts among its entries: the
/// first entry that starts with `name_start` and is not wholly at or before
/// `after`. None when every key under the directory is at or before `after`.
fn first_entry(dir_key: &str, name_start: &str, after: Option<&str>) -> Option<Bound<String>> {
    let from = match after {
        // Every key here starts with `dir_key`, so sorts after `after`.
        None => Included(String::new()),
        Some(after) if after < dir_key => Included(String::new()),
        Some(after) => {
            let rel = after.strip_prefix(dir_key)?;
            match rel.find('/') {
                // `after` is inside the subdirectory `rel[..=slash]`: walk it
                // (from `after`) and what follows.
                Some(slash) => Included(rel[..=slash].to_string()),
                None => Excluded(rel.to_string()),
            }
        }
    };
    let later = match &from {
        Included(s) | Excluded(s) => name_start > s.as_str(),
        Unbounded => true,
    };
    Some(if later { Included(name_start.to_string()) } else { from })
}

/// The walk before the index: each call reads and sorts every directory
/// it enters. The tests compare the index's listings with it.
#[cfg(test)]
pub(super) mod naive {
    use std::io::{self, ErrorKind};
    use std::path::Path;

    struct Entry {
        /// The full key (files) or the key prefix `dir/` (directories).
        key: String,
        is_dir: bool,
    }

    /// Up to `want` keys under `prefix` after `start_after`, ascending.
    pub(crate) fn list(root: &Path, prefix: &str, start_after: Option<&str>, want: usize) -> io::Result<Vec<String>> {
        let (dir_key, name_start) = match prefix.rsplit_once('/') {
            Some((dirs, partial)) => (format!("{dirs}/"), partial),
            None => (String::new(), prefix),
        };
        let mut out = Vec::new();
        walk(&root.join(&dir_key), &dir_key, name_start, start_after, want, &mut out)?;
        Ok(out)
    }

    fn walk(
        dir: &Path,
        dir_key: &str,
        name_start: &str,
        after: Option<&str>,
        want: usize,
        out: &mut Vec<String>,
    ) -> io::Result<()> {
        let mut entries = match read_entries(dir, dir_key, name_start) {
            Ok(entries) => entries,
            // A prefix naming nothing (or naming a file as a directory) lists nothing.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => return Ok(()),
            Err(e) => return Err(e),
        };
        entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let first = match after {
            Some(after) => entries.partition_point(|e| wholly_before(e, after)),
            None => 0,
        };
        for entry in &entries[first..] {
            if out.len() >= want {
                break;
            }
            if entry.is_dir {
                let name = entry.key[dir_key.len()..].trim_end_matches('/');
                let inner_after = after.filter(|a| a.starts_with(&entry.key));
                walk(&dir.join(name), &entry.key, "", inner_after, want, out)?;
            } else {
                out.push(entry.key.clone());
            }
        }
        Ok(())
    }

    /// Whether every key of the entry sorts at or before `after`.
    fn wholly_before(entry: &Entry, after: &str) -> bool {
        if entry.is_dir {
            entry.key.as_str() < after && !after.starts_with(&entry.key)
        } else {
            entry.key.as_str() <= after
        }
    }

    fn read_entries(dir: &Path, dir_key: &str, name_start: &str) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            // Keys are text; a name that is not UTF-8 cannot be one.
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') || !name.starts_with(name_start) {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                entries.push(Entry { key: format!("{dir_key}{name}/"), is_dir: true });
            } else if kind.is_file() {
                entries.push(Entry { key: format!("{dir_key}{name}"), is_dir: false });
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn touch(root: &Path, key: &str) {
        let path = root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn keys_come_in_byte_order_across_directories() {
        let dir = tempfile::tempdir().unwrap();
        for key in ["a/u1/x", "a/u10/y", "a/u1-b", "a/u2/z", "a/u1/.tmp", "b/q"] {
            touch(dir.path(), key);
        }
        let index = Index::shared(dir.path());
        let naive =
            |prefix: &str, after: Option<&str>, want: usize| naive::list(dir.path(), prefix, after, want).unwrap();
        let cases: [(&str, Option<&str>, usize, &[&str]); 8] = [
            ("", None, 100, &["a/u1-b", "a/u1/x", "a/u10/y", "a/u2/z", "b/q"]),
            ("a/u1", None, 100, &["a/u1-b", "a/u1/x", "a/u10/y"]),
            ("a/u1/", None, 100, &["a/u1/x"]),
            ("a/", Some("a/u1/x"), 2, &["a/u10/y", "a/u2/z"]),
            ("a/", Some("a/u1/"), 1, &["a/u1/x"]),
            ("a/u", Some("a/u1"), 1, &["a/u1-b"]),
            ("nothing/", None, 10, &[]),
            ("b/q/", None, 10, &[]),
        ];
        for (prefix, after, want, expected) in cases {
            assert_eq!(list(&index, prefix, after, want).unwrap(), expected, "{prefix} after {after:?}");
            assert_eq!(naive(prefix, after, want), expected, "naive: {prefix} after {after:?}");
        }
        assert_eq!(list(&index, "", Some("b"), 10).unwrap(), ["b/q"]);
        assert!(list(&index, "a/", Some("b"), 10).unwrap().is_empty());
    }
}
