//! The port conformance suite on the embedded backend, a fresh directory per
//! test.

use std::sync::Arc;

use shared::adapters::embedded::{DirFiles, EmbeddedQueue, EmbeddedRecords};
use shared::ports::clock::OffsetClock;
use tempfile::TempDir;

async fn fresh_records() -> (EmbeddedRecords, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = EmbeddedRecords::open(&dir.path().join("records.redb")).expect("open records");
    (records, dir)
}

async fn fresh_files() -> (DirFiles, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = DirFiles::open(dir.path().join("files")).expect("open files");
    (files, dir)
}

async fn fresh_queue() -> (EmbeddedQueue, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = EmbeddedRecords::open(&dir.path().join("queue.redb")).expect("open database");
    let queue = EmbeddedQueue::open(records.database(), "work", Arc::new(OffsetClock::default())).expect("open queue");
    (queue, dir)
}

shared::records_conformance!(fresh_records());
shared::files_conformance!(fresh_files());
shared::queue_conformance!(fresh_queue());
