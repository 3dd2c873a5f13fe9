//! What fulfilment costs: DynamoDB requests per order, for every plan size
//! (issue 7: at most 6; each get, query, write and transaction is one).

use super::*;
use crate::services::credits;
use crate::testkit::counted::counted_ctx;
use crate::testkit::stack::{BUYER, paid_order};

/// A paid order of `plan` on a fresh stack with just enough stock, and the
/// DynamoDB requests its fulfilment message costs.
async fn fulfilment_requests(plan: &str) -> (u64, FulfilOutcome, bool) {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = counted_ctx(dir.path());
    paid_order(&ctx, plan).await;
    let msg = ctx.fulfil_queue.receive(1, std::time::Duration::from_secs(30)).await.unwrap().remove(0);
    records.take();
    let outcome = handle(&ctx, &msg.body).await.unwrap();
    let used = records.take();
    let earned = credits::view(&ctx, BUYER).await.unwrap().entries.len() == 1;
    (used, outcome, earned)
}

#[tokio::test]
async fn fulfilment_costs_at_most_five_dynamodb_requests_for_every_plan_size() {
    for plan in ["bronze", "silver", "gold", "diamond", "pro", "elite"] {
        let (used, outcome, earned) = fulfilment_requests(plan).await;
        assert!(matches!(outcome, FulfilOutcome::Fulfilled { .. }), "{plan}: {outcome:?}");
        assert!(earned, "{plan}: the credit is earned in the same requests");
        assert!(used <= 5, "{plan}: {used} DynamoDB requests");
    }
}
