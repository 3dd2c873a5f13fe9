//! Files that stall one move, for races between a late run and the others:
//! once armed, the first move of a session file out of `from` tells
//! `paused` and waits for `release` before it moves (and, with
//! `pause_after`, again after it moved).

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::adapters::embedded::DirFiles;
use crate::ports::{FileError, FileMeta, FilePage, Files};

pub struct Gated {
    inner: DirFiles,
    from: &'static str,
    pause_after: bool,
    pub armed: AtomicBool,
    pub paused: Notify,
    pub release: Notify,
}

impl Gated {
    pub fn new(inner: DirFiles, from: &'static str, pause_after: bool) -> Self {
        Gated { inner, from, pause_after, armed: AtomicBool::new(false), paused: Notify::new(), release: Notify::new() }
    }

    async fn stall(&self) {
        self.paused.notify_one();
        self.release.notified().await;
    }
}

#[async_trait]
impl Files for Gated {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        self.inner.list(prefix, start_after, limit).await
    }
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        // The file itself, not its sidecar (a journal moves with it).
        let ours = from.starts_with(self.from) && from.ends_with(".session");
        if !(ours && self.armed.swap(false, Ordering::SeqCst)) {
            return self.inner.move_file(from, to).await;
        }
        self.stall().await;
        let moved = self.inner.move_file(from, to).await;
        if self.pause_after {
            self.stall().await;
        }
        moved
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        self.inner.put(key, bytes, if_absent).await
    }
    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.inner.delete(key).await
    }
}
