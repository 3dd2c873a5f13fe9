use super::*;
use crate::domain::{LedgerKind, StockCounts, Timestamp};
use crate::services::store::stock::{self as book, LedgerCheckpoint, LedgerEntry};

#[tokio::test]
async fn stock_counters_ledger_and_checkpoint_round_trip() {
    let (_d, ctx) = ctx();
    let counts = StockCounts { unused: 3, reserved: 1, assigned: 2, banned: 1, frozen: 0 };
    let entry = LedgerEntry {
        id: format!("L{}", book::seq(1, 0)),
        seq: book::seq(1, 0),
        at: Timestamp(5),
        kind: LedgerKind::Restock,
        file: Some("a.session".into()),
        delta: 2,
        before: 0,
        after: 2,
        counts,
        reason: "r".into(),
        reference: "x".into(),
        actor: "t".into(),
    };
    let writes = vec![book::put_entry(&entry).unwrap(), book::set_counts(&counts, 1, 0)];
    run(&ctx, writes).await;
    let read = book::counts(&ctx).await.unwrap();
    assert_eq!((read.counts, read.version), (counts, 1));
    assert_eq!(book::entry(&ctx, 1, 0).await.unwrap(), Some(entry.clone()));
    assert_eq!(book::entries(&ctx, None, 10).all().await.unwrap(), vec![entry.clone()]);
    assert!(book::entries(&ctx, Some((1, 0)), 10).all().await.unwrap().is_empty());
    let cp = LedgerCheckpoint { version: 1, entries: 1, anchor: entry };
    let save = book::save_checkpoint(&cp).unwrap();
    run(&ctx, vec![save.clone()]).await;
    assert_eq!(book::checkpoint(&ctx).await.unwrap(), Some(cp.clone()));
    fields_exist(&read, &[book::set_counts(&counts, 2, 1)]);
    fields_exist(&cp, &[save]);
}
