//! A late mover (a stalled run whose work another run already booked) takes
//! a file out of the buyer's prefix, and puts it back a moment later (its
//! booking is refused, so `put_back_late` moves it where the record says).
//! Reconcile may look in between: it must not make the record follow the
//! file to unused/ while a live subscription of that buyer lists it (the
//! file would be sold to a second buyer while the first still has it).

use crate::domain::Location;
use crate::services::items::from_item;
use crate::services::jobs::StepReport;
use crate::services::model::FileRecord;
use crate::services::{keys, reconcile};
use crate::testkit::gated::resold;

#[tokio::test]
async fn reconcile_between_a_late_move_and_its_put_back_does_not_sell_the_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = resold(dir.path(), true).await;
    let (ctx, files, name) = (r.ctx.clone(), r.files.clone(), r.name);
    let mine = format!("assigned/{}/{name}", r.user);
    // The stalled run makes its move, late: f0 leaves the buyer for unused/,
    // and the run stalls again before its booking (refused) puts it back.
    files.release.notify_one();
    files.paused.notified().await;
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_some());
    assert!(ctx.files.head(&mine).await.unwrap().is_none());
    // Reconcile looks now: f0 in unused/, its record with the buyer.
    let between = reconcile::run(&ctx, "test").await.all_ok().unwrap();
    files.release.notify_one();
    r.stalled_ends().await.unwrap();

    let rec: FileRecord = from_item(ctx.records.get(&keys::file(name)).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (rec.location, rec.user_id.as_deref(), rec.order_id.as_deref()),
        (Location::Assigned, Some(r.user.as_str()), Some(r.second.as_str())),
        "{between:?}"
    );
    assert!(ctx.files.head(&mine).await.unwrap().is_some(), "{name} left the buyer");
    assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_none(), "{name} is in unused/");
    r.nobody_else_gets_it().await;
}
