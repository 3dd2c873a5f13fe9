//! The lifecycle on its own: the domain's table decides, and a move carries
//! what it implies in the same commit.

use super::*;
use crate::services::stock::read_counts;
use crate::services::store::orders::load;
use crate::services::{catalog, checkout, restock};
use crate::testkit::stack::{checkout_request, embedded_ctx, paid_order};

#[tokio::test]
async fn a_move_the_domain_forbids_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let id = paid_order(&ctx, "bronze").await;
    let before = load(&ctx, &id).await.unwrap().unwrap();
    assert_eq!(before.order.status, OrderStatus::Paid);
    for to in [OrderStatus::Pending, OrderStatus::Expired, OrderStatus::PartiallyPaid] {
        let moved = apply(&ctx, Move::new(&before, to, "test", "no")).await.unwrap();
        assert!(matches!(moved, Moved::NotAllowed), "paid -> {to}: {moved:?}");
    }
    let after = load(&ctx, &id).await.unwrap().unwrap();
    assert_eq!((after.order.status, after.order.updated_at), (OrderStatus::Paid, before.order.updated_at));
}

#[tokio::test]
async fn an_expiry_gives_back_the_hold_and_the_limits_in_its_commit_and_a_stale_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    catalog::seed(&ctx).await.unwrap();
    ctx.files.put("unused/a.session", b"x".to_vec(), true).await.unwrap();
    restock::adopt_new_files(&ctx, "test").await.unwrap();
    let Ok(checkout::Outcome::Created(order)) =
        checkout::checkout(&ctx, checkout_request("a@b.c", "bronze"), None).await
    else {
        panic!("checkout")
    };
    assert_eq!(read_counts(&ctx).await.unwrap().counts.reserved, 1);
    let open = load(&ctx, &order.order_id).await.unwrap().unwrap();
    assert!(open.hold.is_some());

    let moved = apply(&ctx, Move::new(&open, OrderStatus::Expired, "test", "hold lapsed")).await.unwrap();
    assert!(matches!(moved, Moved::Done(_)), "{moved:?}");
    let now = load(&ctx, &order.order_id).await.unwrap().unwrap();
    assert_eq!(now.order.status, OrderStatus::Expired);
    assert!(now.hold.is_none(), "hold released with the move");
    assert_eq!(read_counts(&ctx).await.unwrap().counts.reserved, 0, "stock back with the move");
    // Its limit slot is free again: the same buyer may open another order.
    let again = checkout::checkout(&ctx, checkout_request("a@b.c", "bronze"), None).await;
    assert!(matches!(again, Ok(checkout::Outcome::Created(_))), "a new order after the expiry");
    let counter = ctx.records.get(&limits::email_counter("a@b.c", None)).await.unwrap().unwrap();
    assert_eq!(counter["open"], 1, "the expired order's slot was given back");

    // The same move from the stale read: the order's guard refuses it, once.
    let moved = apply(&ctx, Move::new(&open, OrderStatus::Failed, "test", "late")).await.unwrap();
    assert!(matches!(moved, Moved::Refused(Part::Order)), "{moved:?}");
    assert_eq!(read_counts(&ctx).await.unwrap().counts.reserved, 1, "only the new order's hold");
}
