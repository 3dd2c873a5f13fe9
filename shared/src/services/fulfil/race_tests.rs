//! A duplicate fulfilment run that stalls before its move while another run
//! fulfils the order and a refund takes the file back: its late move must
//! not leave the file under the buyer with the record saying unused/ (which
//! reconcile then marks lost, leaving an orphan).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::*;
use crate::adapters::embedded::{DirFiles, open_embedded};
use crate::domain::{Email, Location};
use crate::ports::clock::OffsetClock;
use crate::ports::{FileError, FileMeta, FilePage, Files};
use crate::services::items::from_item;
use crate::services::jobs::StepReport;
use crate::services::model::FileRecord;
use crate::services::{keys, reconcile, refunds};
use crate::testkit::stack::{BUYER, local_ctx, paid_order};

/// Files whose first move out of unused/ (once armed) waits for `release`.
struct Gated {
    inner: DirFiles,
    armed: AtomicBool,
    paused: Notify,
    release: Notify,
}

#[async_trait]
impl Files for Gated {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        self.inner.list(prefix, start_after, limit).await
    }
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        if from.starts_with("unused/") && self.armed.swap(false, Ordering::SeqCst) {
            self.paused.notify_one();
            self.release.notified().await;
        }
        self.inner.move_file(from, to).await
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

#[tokio::test]
async fn a_stalled_duplicate_run_does_not_move_a_refunded_file_back_to_the_buyer() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated {
        inner: b.files,
        armed: AtomicBool::new(false),
        paused: Notify::new(),
        release: Notify::new(),
    });
    let ctx = Arc::new(local_ctx(Arc::new(b.records), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    let id = paid_order(&ctx, "bronze").await;
    let user = crate::domain::UserId::for_email(&Email::parse(BUYER).unwrap()).as_str().to_string();

    // Run one claims and stalls before its first move.
    files.armed.store(true, Ordering::SeqCst);
    let stalled = tokio::spawn({
        let (ctx, id) = (ctx.clone(), id.clone());
        async move { fulfil(&ctx, &id).await }
    });
    files.paused.notified().await;
    // Run two (a redelivery) fulfils it; then the order is refunded.
    assert!(matches!(fulfil(&ctx, &id).await.unwrap(), FulfilOutcome::Fulfilled { .. }));
    refunds::refund_order(&ctx, &crate::domain::OrderId::parse(&id).unwrap(), "staff").await.unwrap();
    // Run one wakes up and makes its move, late.
    files.release.notify_one();
    let late = stalled.await.unwrap().unwrap();
    assert!(!matches!(late, FulfilOutcome::Fulfilled { .. }), "{late:?}");

    // Bronze: paid_order stocked its one file, f0.
    let name = "f0.session";
    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!(rec.location, Location::Unused, "{name}");
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_some(), "{name} is back in stock");
    let under_buyer = format!("assigned/{}/{name}", user);
    assert!(ctx.files.head(&under_buyer).await.unwrap().is_none(), "{name} left under the buyer");
    let report = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(report.lost, 0, "{report:?}");
    assert!(report.invariants.ok(), "{:?}", report.invariants);
}
