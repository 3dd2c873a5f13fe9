//! Stock files: an object store with the prefixes `unused/`, `assigned/{user}/`,
//! `banned/`, `frozen/`. Keys are relative paths like `unused/acct-1.session`.

use async_trait::async_trait;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilePage {
    /// Full keys, in ascending byte order.
    pub keys: Vec<String>,
    /// Pass as `start_after` for the next page; None when this was the last.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    pub key: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such file: {0}")]
    NotFound(String),
    /// A put with `if_absent` found the key taken.
    #[error("file exists: {0}")]
    Exists(String),
    #[error("invalid file key: {0}")]
    InvalidKey(String),
    #[error("file store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

#[async_trait]
pub trait Files: Send + Sync {
    /// Keys under `prefix` (recursively), ascending, at most `limit`, after
    /// `start_after` when given.
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError>;
    /// Moves `from` to `to`. Idempotent: when `from` is gone and `to` exists,
    /// that is success (a retried move). A move whose copy happened but whose
    /// delete did not is finished by calling it again.
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError>;
    /// Writes a file; with `if_absent`, fails with `Exists` rather than overwrite.
    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError>;
    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError>;
    /// Deleting a missing key is success.
    async fn delete(&self, key: &str) -> Result<(), FileError>;
}
