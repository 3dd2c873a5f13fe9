//! Who a checkout answers: a repeat never hands out another checkout's
//! token, and nobody but the buyer's own address can use up their limit.

use crate::domain::OrderStatus;
use crate::services::checkout::{CheckoutRequest, Outcome, checkout};
use crate::services::{Ctx, ServiceError, catalog, restock};
use crate::testkit::stack::{checkout_request, embedded_ctx};

async fn stocked(dir: &std::path::Path, n: usize) -> Ctx {
    let ctx = embedded_ctx(dir);
    catalog::seed(&ctx).await.unwrap();
    for i in 0..n {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await.unwrap();
    }
    restock::adopt_new_files(&ctx, "test").await.unwrap();
    ctx
}

fn from(ip: &str, email: &str, new: bool) -> CheckoutRequest {
    let mut req = checkout_request(email, "bronze");
    req.client_ip = Some(ip.into());
    req.new = new;
    req
}

#[tokio::test]
async fn a_repeat_without_the_key_gets_409_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = stocked(dir.path(), 3).await;
    let Ok(Outcome::Created(first)) = checkout(&ctx, from("203.0.113.9", "ann@example.com", false), None).await else {
        panic!("first checkout refused");
    };
    assert_eq!(first.status, OrderStatus::Pending);
    match checkout(&ctx, from("203.0.113.9", "ann@example.com", false), None).await {
        Err(ServiceError::OrderOpen(_)) => {}
        Err(e) => panic!("expected order-open, got {e:?}"),
        Ok(_) => panic!("a repeat was answered with an order (and its token)"),
    }
}

#[tokio::test]
async fn a_stranger_cannot_use_up_a_buyers_open_order_limit() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = stocked(dir.path(), 10).await;
    let max = ctx.settings.pending_per_email;
    // A stranger opens as many orders for ann's email as the limit allows.
    for _ in 0..max {
        let r = checkout(&ctx, from("198.51.100.7", "ann@example.com", true), None).await;
        assert!(matches!(r, Ok(Outcome::Created(_))), "{:?}", r.err());
    }
    let r = checkout(&ctx, from("198.51.100.7", "ann@example.com", true), None).await;
    assert!(matches!(r, Err(ServiceError::TooMany(_))), "the stranger is limited: {:?}", r.err());
    // Ann, from her own address, still buys: neither refused nor handed the stranger's order.
    match checkout(&ctx, from("203.0.113.9", "ann@example.com", false), None).await {
        Ok(Outcome::Created(o)) => assert_eq!(o.status, OrderStatus::Pending),
        Ok(Outcome::Replayed(_)) => panic!("ann was handed the stranger's order"),
        Err(e) => panic!("ann was locked out: {e:?}"),
    }
}
