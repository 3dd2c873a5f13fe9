//! Listing a directory tree as S3 lists keys: every key under a string
//! prefix, in byte order, after `start_after`.
//!
//! Inside one directory a subdirectory `d` sorts as `d/` (its keys all start
//! with that), so a depth-first walk of sorted entries yields keys in byte
//! order. Each directory read costs one listing of names, never file
//! contents, and subtrees wholly before `start_after` are skipped unread.

use std::io::{self, ErrorKind};
use std::path::Path;

struct Entry {
    /// The full key (files) or the key prefix `dir/` (directories).
    key: String,
    is_dir: bool,
}

/// Up to `want` keys under `prefix` after `start_after`, ascending.
pub(super) fn list(root: &Path, prefix: &str, start_after: Option<&str>, want: usize) -> io::Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
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
        let all = list(dir.path(), "", None, 100).unwrap();
        assert_eq!(all, ["a/u1-b", "a/u1/x", "a/u10/y", "a/u2/z", "b/q"]);
        assert_eq!(list(dir.path(), "a/u1", None, 100).unwrap(), ["a/u1-b", "a/u1/x", "a/u10/y"]);
        assert_eq!(list(dir.path(), "a/u1/", None, 100).unwrap(), ["a/u1/x"]);
        assert_eq!(list(dir.path(), "a/", Some("a/u1/x"), 2).unwrap(), ["a/u10/y", "a/u2/z"]);
        assert_eq!(list(dir.path(), "a/", Some("a/u1/"), 1).unwrap(), ["a/u1/x"]);
        assert!(list(dir.path(), "nothing/", None, 10).unwrap().is_empty());
        assert!(list(dir.path(), "b/q/", None, 10).unwrap().is_empty());
    }
}
