//! Fulfilment hands out stock files only (never a README or a stray journal
//! dropped into unused/), and a session file's journal goes with it.

use super::*;
use crate::testkit::stack::{embedded_ctx, paid_order};

#[tokio::test]
async fn only_stock_is_sold_and_a_journal_goes_with_its_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = embedded_ctx(dir.path());
    for key in ["unused/README.txt", "unused/x.session-journal", "unused/f0.session-journal"] {
        ctx.files.put(key, b"x".to_vec(), true).await.expect("put");
    }
    // Stocks f0.session and f1.session, exactly what silver takes.
    let order_id = paid_order(&ctx, "silver").await;
    let outcome = fulfil(&ctx, &order_id).await.expect("fulfil");
    let FulfilOutcome::Fulfilled { files, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(files, ["f0.session", "f1.session"]);
    let assigned = ctx.files.list("assigned/", None, 10).await.expect("list").keys;
    let names: Vec<&str> = assigned.iter().filter_map(|k| k.rsplit('/').next()).collect();
    assert_eq!(names, ["f0.session", "f0.session-journal", "f1.session"]);
    let unused = ctx.files.list("unused/", None, 10).await.expect("list").keys;
    assert_eq!(unused, ["unused/README.txt", "unused/x.session-journal"], "junk left where it was");
}
