//! A late mover (a stalled run whose work another run already booked) takes
//! a file out of the buyer's prefix, and puts it back a moment later (its
//! booking is refused, so `put_back_late` moves it where the record says).
//! Reconcile may look in between: it must not make the record follow the
//! file to unused/ while a live subscription of that buyer lists it (the
//! file would be sold to a second buyer while the first still has it).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::adapters::embedded::open_embedded;
use crate::domain::{Email, EndReason, Location, UserId};
use crate::ports::clock::OffsetClock;
use crate::services::fulfil::{FulfilOutcome, fulfil};
use crate::services::items::from_item;
use crate::services::jobs::StepReport;
use crate::services::model::FileRecord;
use crate::services::{ServiceError, checkout, keys, reconcile, revoke, subscriptions};
use crate::testkit::gated::Gated;
use crate::testkit::stack::{BUYER, another_order, checkout_request, local_ctx, paid_order};

#[tokio::test]
async fn reconcile_between_a_late_move_and_its_put_back_does_not_sell_the_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated::new(b.files, "assigned/", true));
    let ctx = Arc::new(local_ctx(Arc::new(b.records), files.clone(), (Arc::new(b.fulfil), Arc::new(b.events)), clock));
    let first = paid_order(&ctx, "bronze").await;
    assert!(matches!(fulfil(&ctx, &first).await.unwrap(), FulfilOutcome::Fulfilled { .. }));
    let user = UserId::for_email(&Email::parse(BUYER).unwrap()).as_str().to_string();
    // Bronze: paid_order stocked its one file, f0.
    let (name, sid) = ("f0.session", format!("S{first}"));
    let mine = format!("assigned/{user}/{name}");

    // The subscription ends; one run of its return stalls before its move.
    let sub = subscriptions::load(&ctx, &sid).await.unwrap();
    ctx.records.transact(revoke::begin(&ctx, &sub, EndReason::Revoked, "staff").unwrap()).await.unwrap();
    files.armed.store(true, Ordering::SeqCst);
    let stalled = tokio::spawn({
        let (ctx, sid) = (ctx.clone(), sid.clone());
        async move { revoke::finish(&ctx, &sid).await }
    });
    files.paused.notified().await;
    // Another run returns and books f0; the same buyer's next order gets it.
    assert_eq!(revoke::finish(&ctx, &sid).await.unwrap(), revoke::RevokeOutcome::Revoked { files: vec![name.into()] });
    let second = another_order(&ctx, BUYER).await;
    let FulfilOutcome::Fulfilled { subscription_id, files: got } = fulfil(&ctx, &second).await.unwrap() else {
        panic!("the second order is fulfilled")
    };
    assert_eq!(got, [name]);
    // The stalled run makes its move, late: f0 leaves the buyer for unused/,
    // and the run stalls again before its booking (refused) puts it back.
    files.release.notify_one();
    files.paused.notified().await;
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_some());
    assert!(ctx.files.head(&mine).await.unwrap().is_none());
    // Reconcile looks now: f0 in unused/, its record with the buyer.
    let between = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    files.release.notify_one();
    stalled.await.unwrap().unwrap();

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (rec.location, rec.user_id.as_deref(), rec.order_id.as_deref()),
        (Location::Assigned, Some(user.as_str()), Some(second.as_str())),
        "{between:?}"
    );
    assert!(ctx.files.head(&mine).await.unwrap().is_some(), "{name} left the buyer");
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_none(), "{name} is in unused/");
    let report = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert!(report.invariants.ok(), "{:?}", report.invariants);
    // Nobody else is sold f0: there is no stock for another buyer.
    let third = checkout::checkout(&ctx, checkout_request("other@example.com", "bronze"), None).await;
    assert!(matches!(third, Err(ServiceError::InsufficientStock { .. })), "{:?}", third.err());
    assert_eq!(subscriptions::load(&ctx, &subscription_id).await.unwrap().files, [name]);
}
