//! A session file's journal (`{key}-journal`, see `domain::SIDECAR_SUFFIX`)
//! goes wherever its session file goes. Every service moves and deletes
//! stock files through `Ctx::files`, which is this wrapper, so assign,
//! revoke, ban, freeze, unfreeze, write-off and reconcile's repairs all carry
//! the journal along without knowing about it.
//!
//! Crash safety: the journal moves first, the session file second. A retry
//! repeats both, and each move is idempotent (source gone, destination there:
//! done), so a crash between the two is finished by the retry. And whoever
//! sees the session file at its destination knows its journal is there too,
//! so a caller that skips a move it finds done never strands a journal.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{SIDECAR_SUFFIX, sidecar_of};
use crate::ports::{FileError, FileMeta, FilePage, Files};

pub(super) struct WithSidecars(pub(super) Arc<dyn Files>);

/// True for a key that may have a journal: not a journal itself.
fn has_sidecar(key: &str) -> bool {
    !key.ends_with(SIDECAR_SUFFIX)
}

#[async_trait]
impl Files for WithSidecars {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        self.0.list(prefix, start_after, limit).await
    }

    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        if !has_sidecar(from) {
            return self.0.move_file(from, to).await;
        }
        let (journal_from, journal_to) = (sidecar_of(from), sidecar_of(to));
        let journal_moved = match self.0.move_file(&journal_from, &journal_to).await {
            Ok(()) => true,
            // No journal on either side: nothing to carry.
            Err(FileError::NotFound(_)) => false,
            Err(e) => return Err(e),
        };
        match self.0.move_file(from, to).await {
            Err(FileError::NotFound(k)) if journal_moved => {
                // The session file is nowhere: its journal stays where it was.
                if let Err(e) = self.0.move_file(&journal_to, &journal_from).await {
                    tracing::warn!(journal = %journal_to, error = %e, "could not put a journal back");
                }
                Err(FileError::NotFound(k))
            }
            other => other,
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        self.0.put(key, bytes, if_absent).await
    }

    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        self.0.head(key).await
    }

    /// The journal goes first, so a crash leaves the session file to retry.
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        if has_sidecar(key) {
            self.0.delete(&sidecar_of(key)).await?;
        }
        self.0.delete(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::open_embedded;
    use crate::ports::clock::OffsetClock;

    async fn files(dir: &std::path::Path) -> WithSidecars {
        let b = open_embedded(dir, Arc::new(OffsetClock::default())).expect("embedded backend");
        WithSidecars(Arc::new(b.files))
    }

    async fn at(f: &WithSidecars, key: &str) -> bool {
        f.head(key).await.expect("head").is_some()
    }

    #[tokio::test]
    async fn a_journal_moves_and_goes_with_its_session() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path()).await;
        f.put("unused/a.session", b"db".to_vec(), true).await.expect("put");
        f.put("unused/a.session-journal", b"j".to_vec(), true).await.expect("put");
        f.move_file("unused/a.session", "assigned/u1/a.session").await.expect("move");
        assert!(at(&f, "assigned/u1/a.session-journal").await && !at(&f, "unused/a.session-journal").await);
        // A retry of the same move is done, journal and all.
        f.move_file("unused/a.session", "assigned/u1/a.session").await.expect("retried move");
        f.move_file("assigned/u1/a.session", "banned/a.session").await.expect("ban");
        assert!(at(&f, "banned/a.session").await && at(&f, "banned/a.session-journal").await);
        f.delete("banned/a.session").await.expect("write off");
        assert!(!at(&f, "banned/a.session").await && !at(&f, "banned/a.session-journal").await);
    }

    #[tokio::test]
    async fn a_crash_between_journal_and_session_is_finished_by_the_retry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = files(dir.path()).await;
        f.put("unused/b.session", b"db".to_vec(), true).await.expect("put");
        f.put("unused/b.session-journal", b"j".to_vec(), true).await.expect("put");
        // The journal moved, then the process died.
        f.0.move_file("unused/b.session-journal", "assigned/u1/b.session-journal").await.expect("half");
        f.move_file("unused/b.session", "assigned/u1/b.session").await.expect("retry");
        assert!(at(&f, "assigned/u1/b.session").await && at(&f, "assigned/u1/b.session-journal").await);
        // A session with no journal moves as before; a missing one is still NotFound.
        f.put("unused/c.session", b"db".to_vec(), true).await.expect("put");
        f.move_file("unused/c.session", "frozen/c.session").await.expect("no journal");
        f.put("unused/gone.session-journal", b"j".to_vec(), true).await.expect("put");
        let missing = f.move_file("unused/gone.session", "assigned/u1/gone.session").await;
        assert!(matches!(missing, Err(FileError::NotFound(_))), "{missing:?}");
        assert!(at(&f, "unused/gone.session-journal").await, "the journal of a missing file stays put");
    }
}
