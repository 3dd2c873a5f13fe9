//! Files that stall one move, for races between a late run and the others:
//! once armed, the first move of a session file out of `from` tells
//! `paused` and waits for `release` before it moves (and, with
//! `pause_after`, again after it moved).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::stack::{BUYER, another_order, checkout_request, local_ctx, paid_order};
use crate::adapters::embedded::{DirFiles, open_embedded};
use crate::domain::{Email, EndReason, UserId};
use crate::ports::clock::OffsetClock;
use crate::ports::{FileError, FileMeta, FilePage, Files};
use crate::services::fulfil::{FulfilOutcome, fulfil};
use crate::services::jobs::StepReport;
use crate::services::revoke::{self, RevokeOutcome};
use crate::services::{Ctx, ServiceError, checkout, reconcile, subscriptions};

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

/// The race both late-return tests start from: a stack whose first move out
/// of `assigned/` stalls (see `Gated`); the buyer's bronze plan ended, one run
/// of its return stalled before its move, another run returned and booked
/// f0, and the same buyer's next order was handed f0 again.
pub struct Resold {
    pub ctx: Arc<Ctx>,
    pub files: Arc<Gated>,
    pub name: &'static str,
    /// The buyer's prefix under assigned/.
    pub user: String,
    pub second: String,
    pub subscription_id: String,
    stalled: Option<JoinHandle<Result<RevokeOutcome, ServiceError>>>,
}

/// The stack lives in `dir`.
pub async fn resold(dir: &Path, pause_after: bool) -> Resold {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).expect("embedded backend");
    let files = Arc::new(Gated::new(b.files, "assigned/", pause_after));
    let ctx = Arc::new(local_ctx(Arc::new(b.records), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    let first = paid_order(&ctx, "bronze").await;
    assert!(matches!(fulfil(&ctx, &first).await.expect("fulfil"), FulfilOutcome::Fulfilled { .. }));
    let user = UserId::for_email(&Email::parse(BUYER).expect("email")).as_str().to_string();
    // Bronze: paid_order stocked its one file, f0.
    let name = "f0.session";
    let sid = format!("S{first}");
    let sub = subscriptions::load(&ctx, &sid).await.expect("subscription");
    ctx.records
        .transact(revoke::begin(&ctx, &sub, EndReason::Revoked, "staff").expect("revoke"))
        .await
        .expect("commit");
    files.armed.store(true, Ordering::SeqCst);
    let stalled = tokio::spawn({
        let (ctx, sid) = (ctx.clone(), sid.clone());
        async move { revoke::finish(&ctx, &sid).await }
    });
    files.paused.notified().await;
    // Another run (a redelivery, a refund's repeat, reconcile) returns f0.
    assert_eq!(revoke::finish(&ctx, &sid).await.expect("revoke"), RevokeOutcome::Revoked { files: vec![name.into()] });
    let second = another_order(&ctx, BUYER).await;
    let FulfilOutcome::Fulfilled { subscription_id, files: got } = fulfil(&ctx, &second).await.expect("fulfil") else {
        panic!("the second order is fulfilled")
    };
    assert_eq!(got, [name]);
    Resold { ctx, files, name, user, second, subscription_id, stalled: Some(stalled) }
}

impl Resold {
    /// Waits for the stalled run to end (release it first).
    pub async fn stalled_ends(&mut self) -> Result<RevokeOutcome, ServiceError> {
        self.stalled.take().expect("the stalled run, awaited once").await.expect("the stalled run panicked")
    }

    /// After the race: the books hold, the buyer's new subscription still
    /// lists f0, and nobody else is sold it (there is no other stock).
    pub async fn nobody_else_gets_it(&self) {
        let report = reconcile::run(&self.ctx, "test").await.all_ok().expect("reconcile");
        assert!(report.invariants.ok(), "{:?}", report.invariants);
        let third = checkout::checkout(&self.ctx, checkout_request("other@example.com", "bronze"), None).await;
        assert!(matches!(third, Err(ServiceError::InsufficientStock { .. })), "{:?}", third.err());
        let live = subscriptions::load(&self.ctx, &self.subscription_id).await.expect("subscription");
        assert_eq!(live.files, [self.name]);
    }
}
