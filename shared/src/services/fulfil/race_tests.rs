//! A duplicate fulfilment run that stalls before its move while another run
//! fulfils the order and a refund takes the file back: its late move must
//! not leave the file under the buyer with the record saying unused/ (which
//! reconcile then marks lost, leaving an orphan).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::*;
use crate::adapters::embedded::open_embedded;
use crate::domain::{Email, Location};
use crate::ports::clock::OffsetClock;
use crate::services::items::from_item;
use crate::services::jobs::StepReport;
use crate::services::model::FileRecord;
use crate::services::{keys, reconcile, refunds};
use crate::testkit::gated::{Gated, resold};
use crate::testkit::stack::{BUYER, another_order, local_ctx, paid_order};

#[tokio::test]
async fn a_stalled_duplicate_run_does_not_move_a_refunded_file_back_to_the_buyer() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated::new(b.files, "unused/", false));
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

/// Two runs return an ended subscription's file; one stalls before its move.
/// The other returns and books it, and the same buyer's next order gets that
/// file again. The stalled run's late move must not take the file out of the
/// new subscription (leaving it listed there but in unused/, where reconcile
/// makes it stock again and a third order is handed it too).
#[tokio::test]
async fn a_stalled_revoke_run_does_not_take_a_file_back_from_the_buyers_next_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = resold(dir.path(), false).await;
    let (ctx, name) = (r.ctx.clone(), r.name);
    // Run one wakes up and makes its move, late.
    r.files.release.notify_one();
    r.stalled_ends().await.unwrap();

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!((rec.location, rec.order_id.as_deref()), (Location::Assigned, Some(r.second.as_str())));
    assert!(ctx.files.head(&format!("assigned/{}/{name}", r.user)).await.unwrap().is_some(), "{name} left the buyer");
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_none(), "{name} is back in unused/");
    r.nobody_else_gets_it().await;
}

/// The same for a seat taken back (staff removal, an add-on's refund): a
/// stalled run's late move must not take the file from the buyer's next
/// subscription.
#[tokio::test]
async fn a_stalled_seat_return_does_not_take_a_file_back_from_the_buyers_next_subscription() {
    use crate::services::seats;

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated::new(b.files, "assigned/", false));
    let ctx = Arc::new(local_ctx(Arc::new(b.records), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    // Basic: per seat, three files (f0, f1, f2).
    let first = paid_order(&ctx, "basic").await;
    assert!(matches!(fulfil(&ctx, &first).await.unwrap(), FulfilOutcome::Fulfilled { .. }));
    let user = crate::domain::UserId::for_email(&Email::parse(BUYER).unwrap()).as_str().to_string();
    let (sid, name) = (format!("S{first}"), "f0.session");

    // Staff remove seat f0; that run stalls before its move.
    files.armed.store(true, Ordering::SeqCst);
    let stalled = tokio::spawn({
        let (ctx, sid) = (ctx.clone(), sid.clone());
        async move { seats::remove(&ctx, &sid, name, "staff").await }
    });
    files.paused.notified().await;
    // Another run (the usage jobs, a repeated request) returns and books it.
    seats::finish_all(&ctx, &sid, &[name.to_string()]).await.unwrap();
    // The same buyer's next order is handed f0, the only free file.
    let second = another_order(&ctx, BUYER).await;
    let FulfilOutcome::Fulfilled { files: got, .. } = fulfil(&ctx, &second).await.unwrap() else {
        panic!("the second order is fulfilled")
    };
    assert_eq!(got, [name]);
    files.release.notify_one();
    stalled.await.unwrap().unwrap();

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!((rec.location, rec.order_id.as_deref()), (Location::Assigned, Some(second.as_str())));
    assert!(ctx.files.head(&format!("assigned/{user}/{name}")).await.unwrap().is_some(), "{name} left the buyer");
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_none(), "{name} is back in unused/");
    let report = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert!(report.invariants.ok(), "{:?}", report.invariants);
}

/// Records whose `get` of `key` (once armed), after `skip` such gets,
/// waits for `release`.
struct GatedRecords {
    inner: crate::adapters::embedded::EmbeddedRecords,
    key: std::sync::Mutex<Option<crate::ports::Key>>,
    skip: std::sync::atomic::AtomicUsize,
    paused: Notify,
    release: Notify,
}

#[async_trait]
impl crate::ports::Records for GatedRecords {
    async fn get(&self, key: &crate::ports::Key) -> Result<Option<crate::ports::Item>, crate::ports::RecordError> {
        let hit = {
            let mut k = self.key.lock().unwrap();
            let ours = k.as_ref() == Some(key);
            if ours && self.skip.load(Ordering::SeqCst) > 0 {
                self.skip.fetch_sub(1, Ordering::SeqCst);
                false
            } else {
                ours && k.take().is_some()
            }
        };
        if hit {
            self.paused.notify_one();
            self.release.notified().await;
        }
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: crate::ports::Item,
        cond: Option<crate::ports::Cond>,
    ) -> Result<(), crate::ports::RecordError> {
        self.inner.put(item, cond).await
    }
    async fn update(
        &self,
        key: &crate::ports::Key,
        changes: Vec<crate::ports::Change>,
        cond: Option<crate::ports::Cond>,
    ) -> Result<crate::ports::Item, crate::ports::RecordError> {
        self.inner.update(key, changes, cond).await
    }
    async fn delete(
        &self,
        key: &crate::ports::Key,
        cond: Option<crate::ports::Cond>,
    ) -> Result<(), crate::ports::RecordError> {
        self.inner.delete(key, cond).await
    }
    async fn transact(&self, writes: Vec<crate::ports::Write>) -> Result<(), crate::ports::RecordError> {
        self.inner.transact(writes).await
    }
    async fn query(&self, query: crate::ports::Query) -> Result<crate::ports::Page, crate::ports::RecordError> {
        self.inner.query(query).await
    }
}

/// Reconcile finds a claimed file still in unused/ (its move not made yet)
/// and, before it asks whether an intent owns it, the fulfilment moves it
/// and finishes. It must not then make the record say unused/ (the file is
/// with the buyer, in a live subscription: it would be sold again).
#[tokio::test]
async fn reconcile_does_not_return_to_stock_a_file_whose_claim_finished_while_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated::new(b.files, "unused/", false));
    let records = Arc::new(GatedRecords {
        inner: b.records,
        key: std::sync::Mutex::new(None),
        skip: std::sync::atomic::AtomicUsize::new(0),
        paused: Notify::new(),
        release: Notify::new(),
    });
    let ctx = Arc::new(local_ctx(records.clone(), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    let id = paid_order(&ctx, "bronze").await;
    let user = crate::domain::UserId::for_email(&Email::parse(BUYER).unwrap()).as_str().to_string();
    let name = "f0.session";

    // Fulfilment claims f0 and stalls before its move.
    files.armed.store(true, Ordering::SeqCst);
    let fulfilling = tokio::spawn({
        let (ctx, id) = (ctx.clone(), id.clone());
        async move { fulfil(&ctx, &id).await }
    });
    files.paused.notified().await;
    // Reconcile sees f0 in unused/ with its record saying assigned, and
    // stalls as it asks whether the claim still owns it.
    *records.key.lock().unwrap() = Some(keys::intent(&id));
    let reconciling = tokio::spawn({
        let ctx = ctx.clone();
        async move { reconcile::run(&ctx, "test").await }
    });
    records.paused.notified().await;
    // Meanwhile the fulfilment moves f0 and finishes.
    files.release.notify_one();
    assert!(matches!(fulfilling.await.unwrap().unwrap(), FulfilOutcome::Fulfilled { .. }));
    records.release.notify_one();
    // Nothing to repair: the record was right all along. (Made to follow
    // the stale look, it said unused/ until the scan of assigned/ turned it
    // back, without its order: a claim meanwhile took the file again.)
    let first = reconciling.await.unwrap().all_ok().unwrap();
    assert_eq!((first.repaired, first.ghosts), (0, 0), "{first:?}");

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (rec.location, rec.user_id.as_deref(), rec.order_id.as_deref()),
        (Location::Assigned, Some(user.as_str()), Some(id.as_str()))
    );
    let report = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert!(report.invariants.ok(), "{:?}", report.invariants);
}

/// The same with a staff ban of a file in stock, as a model run found it:
/// reconcile saw the file still in unused/ (the record already banned), the
/// ban's move and its end came before reconcile asked about intents, and
/// the record followed the stale look back to unused/: the file was sold
/// from banned/ and its order could never be filled.
#[tokio::test]
async fn reconcile_does_not_unban_a_file_whose_ban_finished_while_it_looked() {
    use crate::services::adjust::{self, Action, AdjustRequest};

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated::new(b.files, "unused/", false));
    let records = Arc::new(GatedRecords {
        inner: b.records,
        key: std::sync::Mutex::new(None),
        // Adoption asks first (the ban is pending then); settling asks next.
        skip: std::sync::atomic::AtomicUsize::new(1),
        paused: Notify::new(),
        release: Notify::new(),
    });
    let ctx = Arc::new(local_ctx(records.clone(), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    // Silver stocks f0 and f1; nothing is sold.
    crate::services::catalog::seed(&ctx).await.unwrap();
    for f in ["f0", "f1"] {
        ctx.files.put(&format!("unused/{f}.session"), b"x".to_vec(), true).await.unwrap();
    }
    crate::services::restock::adopt_new_files(&ctx, "test").await.unwrap();
    let name = "f0.session";

    // Staff ban f0: the decision commits, its move stalls.
    files.armed.store(true, Ordering::SeqCst);
    let banning = tokio::spawn({
        let ctx = ctx.clone();
        async move {
            let req = AdjustRequest { action: Action::Ban, files: vec![name.into()], reason: "test".into() };
            adjust::adjust(&ctx, &req, "staff").await
        }
    });
    files.paused.notified().await;
    *records.key.lock().unwrap() = Some(crate::services::store::adjusts::key(name));
    let reconciling = tokio::spawn({
        let ctx = ctx.clone();
        async move { reconcile::run(&ctx, "test").await }
    });
    records.paused.notified().await;
    files.release.notify_one();
    banning.await.unwrap().unwrap();
    records.release.notify_one();
    let first = reconciling.await.unwrap().all_ok().unwrap();
    assert_eq!(first.repaired, 0, "{first:?}");

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!(rec.location, Location::Banned);
    assert!(ctx.files.head(&format!("banned/{name}")).await.unwrap().is_some());
    let report = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert!(report.invariants.ok(), "{:?}", report.invariants);
}
