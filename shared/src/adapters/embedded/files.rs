//! `Files` on a directory tree: a key is a relative path under the root, a
//! move is a rename. Names starting with '.' are ours (temporary files) and
//! are neither listed nor accepted as keys. Listings read sorted in-memory
//! copies of the directories (`files_index`), kept current by our own writes
//! and checked against each directory's status, so files copied in by hand
//! are listed too.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;

use super::files_index::{Change, Index};
use super::{blocking, files_list};
use crate::ports::files::{FileError, FileMeta, FilePage, Files};

/// The top-level prefixes of the stock tree.
pub const STOCK_PREFIXES: [&str; 4] = ["unused", "assigned", "banned", "frozen"];

/// S3's key length limit.
const MAX_KEY_BYTES: usize = 1024;
/// S3 returns at most this many keys per listing.
const MAX_PAGE: usize = 1000;

#[derive(Clone, Debug)]
pub struct DirFiles {
    root: PathBuf,
    index: Arc<Index>,
}

impl DirFiles {
    /// Uses `root` (created when missing, with the four stock prefixes).
    /// Blocking.
    pub fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let root = root.into();
        for prefix in STOCK_PREFIXES {
            let dir = root.join(prefix);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let index = Index::shared(&root);
        Ok(DirFiles { root, index })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, FileError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

/// A key is `segment/segment/...`: no empty, `.`-led (so no `..`) or
/// backslashed segments, not absolute, at most 1024 bytes.
pub(super) fn check_key(key: &str) -> Result<(), FileError> {
    let bad = key.is_empty()
        || key.len() > MAX_KEY_BYTES
        || key.contains(['\\', '\0'])
        || key.split('/').any(|segment| segment.is_empty() || segment.starts_with('.'));
    if bad { Err(FileError::InvalidKey(key.to_string())) } else { Ok(()) }
}

/// A prefix is a key whose last segment may be partial or empty.
fn check_prefix(prefix: &str) -> Result<(), FileError> {
    if prefix.is_empty() {
        return Ok(());
    }
    let dirs = prefix.rsplit_once('/').map(|(dirs, _)| dirs);
    let bad =
        prefix.len() > MAX_KEY_BYTES || prefix.contains(['\\', '\0']) || dirs.is_some_and(|d| check_key(d).is_err());
    if bad { Err(FileError::InvalidKey(prefix.to_string())) } else { Ok(()) }
}

fn unavailable(e: io::Error, what: &str) -> FileError {
    FileError::Unavailable(anyhow::Error::new(e).context(what.to_string()))
}

/// An io error about the path's shape (a file where a directory should be, or
/// the reverse): the key clashes with another, which S3 would allow.
fn is_shape_clash(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotADirectory | ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty)
}

fn io_err(key: &str, e: io::Error, what: &str) -> FileError {
    if is_shape_clash(&e) { FileError::InvalidKey(key.to_string()) } else { unavailable(e, what) }
}

fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

fn temp_beside(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.tmp", ulid::Ulid::new()))
}

fn create_parent(path: &Path, key: &str) -> Result<(), FileError> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| io_err(key, e, "creating directory")),
        None => Ok(()),
    }
}

#[async_trait]
impl Files for DirFiles {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        check_prefix(prefix)?;
        let limit = limit.min(MAX_PAGE);
        if limit == 0 {
            return Ok(FilePage::default());
        }
        let (index, prefix, after) = (self.index.clone(), prefix.to_string(), start_after.map(str::to_string));
        blocking(
            move || {
                let mut keys = files_list::list(&index, &prefix, after.as_deref(), limit + 1)
                    .map_err(|e| unavailable(e, "listing files"))?;
                let mut next = None;
                if keys.len() > limit {
                    keys.truncate(limit);
                    next = keys.last().cloned();
                }
                Ok(FilePage { keys, next })
            },
            FileError::Unavailable,
        )
        .await
    }

    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        let (src, dst) = (self.path_of(from)?, self.path_of(to)?);
        let (from, to) = (from.to_string(), to.to_string());
        let index = self.index.clone();
        let mut changes = vec![Change::file_absent(&from)];
        Change::file_present(&to, &mut changes);
        blocking(
            move || {
                index.write(&changes, || {
                    // A directory is not a file: never rename a whole subtree.
                    if !is_file(&src) {
                        return if is_file(&dst) { Ok(()) } else { Err(FileError::NotFound(from)) };
                    }
                    create_parent(&dst, &to)?;
                    match std::fs::rename(&src, &dst) {
                        Ok(()) => Ok(()),
                        // Lost a race with another mover: finished if it landed.
                        Err(e) if e.kind() == ErrorKind::NotFound && is_file(&dst) => Ok(()),
                        Err(e) if e.kind() == ErrorKind::NotFound => Err(FileError::NotFound(from)),
                        Err(e) => Err(io_err(&to, e, "moving file")),
                    }
                })
            },
            FileError::Unavailable,
        )
        .await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        let (key, index) = (key.to_string(), self.index.clone());
        let mut changes = Vec::new();
        Change::file_present(&key, &mut changes);
        blocking(move || index.write(&changes, || put_file(&path, &key, &bytes, if_absent)), FileError::Unavailable)
            .await
    }

    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        let path = self.path_of(key)?;
        let key = key.to_string();
        blocking(
            move || match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok(Some(FileMeta { key, size: m.len() })),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == ErrorKind::NotFound || is_shape_clash(&e) => Ok(None),
                Err(e) => Err(unavailable(e, "reading file metadata")),
            },
            FileError::Unavailable,
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        let path = self.path_of(key)?;
        let (index, changes) = (self.index.clone(), [Change::file_absent(key)]);
        blocking(
            move || {
                index.write(&changes, || {
                    if !is_file(&path) {
                        return Ok(());
                    }
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != ErrorKind::NotFound => Err(unavailable(e, "deleting file")),
                        _ => Ok(()),
                    }
                })
            },
            FileError::Unavailable,
        )
        .await
    }
}

/// Writes to a temporary file first, so nobody lists a half-written file.
/// With `if_absent` the temporary file is hard-linked into place, which fails
/// atomically when the key is taken (the same guarantee as `create_new`,
/// without exposing the file before its bytes are written).
fn put_file(path: &Path, key: &str, bytes: &[u8], if_absent: bool) -> Result<(), FileError> {
    create_parent(path, key)?;
    if if_absent && std::fs::symlink_metadata(path).is_ok() {
        return Err(FileError::Exists(key.to_string()));
    }
    let temp = temp_beside(path);
    std::fs::write(&temp, bytes).map_err(|e| io_err(key, e, "writing file"))?;
    let placed = if if_absent { std::fs::hard_link(&temp, path) } else { std::fs::rename(&temp, path) };
    if if_absent || placed.is_err() {
        // A leftover is harmless: listings skip '.' names.
        let _ = std::fs::remove_file(&temp);
    }
    match placed {
        Ok(()) => Ok(()),
        Err(e) => {
            if e.kind() == ErrorKind::AlreadyExists {
                Err(FileError::Exists(key.to_string()))
            } else {
                Err(io_err(key, e, "placing file"))
            }
        }
    }
}
