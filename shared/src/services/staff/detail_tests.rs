//! The order view reads the order's ledger lines, not the ledger after it.

use std::sync::Arc;

use serde_json::Value;

use super::detail;
use crate::domain::{LedgerKind, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Key, Write};
use crate::services::Ctx;
use crate::services::fulfil;
use crate::services::store::ledger_index;
use crate::services::store::stock::{self as book, LEDGER_PK, LedgerEntry};
use crate::testkit::counted::{Counted, counted_ctx};
use crate::testkit::ledger;
use crate::testkit::stack::paid_order;

/// A fulfilled bronze order on a fresh stack, whose records are counted.
async fn fulfilled() -> (Ctx, Arc<Counted>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, records) = counted_ctx(dir.path());
    let order_id = paid_order(&ctx, "bronze").await;
    fulfil::fulfil(&ctx, &order_id).await.unwrap();
    (ctx, records, order_id, dir)
}

/// A restock line about `reference` at version `version`.
fn line(version: u64, reference: &str, at: Timestamp) -> LedgerEntry {
    ledger::line(version, LedgerKind::Restock, reference, at)
}

fn kinds(lines: &[LedgerEntry]) -> Vec<&'static str> {
    lines.iter().map(|e| e.kind.as_str()).collect()
}

#[tokio::test]
async fn an_orders_lines_cost_one_query_however_much_ledger_came_after() {
    let (ctx, records, order_id, _dir) = fulfilled().await;
    records.take();
    let before = detail::read(&ctx, &order_id).await.unwrap();
    assert_eq!(kinds(&before.ledger), ["sale", "hold"], "newest first");
    let alone = records.take();
    // 6,000 later lines about other things: more than a walk's read budget.
    let at = before.ledger[0].at;
    for chunk in 0..60u64 {
        let writes = (0..100u64)
            .map(|i| {
                let version = 1_000_000 + chunk * 100 + i;
                book::put_entry(&line(version, &format!("other{version}"), at)).unwrap()
            })
            .collect();
        ctx.records.transact(writes).await.unwrap();
    }
    records.take();
    let after = detail::read(&ctx, &order_id).await.unwrap();
    assert_eq!(after.ledger, before.ledger);
    assert_eq!(records.take(), alone, "the same requests as with no ledger after the order");
}

#[tokio::test]
async fn lines_booked_before_the_index_still_show() {
    let (ctx, _records, order_id, _dir) = fulfilled().await;
    let lines = detail::read(&ctx, &order_id).await.unwrap().ledger;
    assert_eq!(lines.len(), 2);
    unindex(&ctx).await;
    // The sale booked after the upgrade: indexed; the hold before it: not.
    let sale = book::put_entry(&lines[0]).unwrap();
    let Write::Put { item, .. } = sale else { panic!("a put") };
    ctx.records.put(item, None).await.unwrap();
    assert_eq!(ledger_index::referencing(&ctx, &order_id, None, 10).read_all().await.unwrap(), lines[..1]);
    assert_eq!(detail::read(&ctx, &order_id).await.unwrap().ledger, lines, "found by walking back to the order");
    // Once reconcile indexed them, from the index.
    ledger_index::backfill(&ctx).await.unwrap();
    assert_eq!(ledger_index::referencing(&ctx, &order_id, None, 10).read_all().await.unwrap(), lines);
}

#[test]
fn a_line_without_a_reference_is_not_indexed() {
    let indexed = |reference: &str| {
        let Write::Put { item, .. } = book::put_entry(&line(1, reference, Timestamp::from_secs(0))).unwrap() else {
            panic!("a put")
        };
        item.get(GSI1PK).cloned()
    };
    assert_eq!(indexed(""), None);
    assert_eq!(indexed("o1"), Some(Value::from("LEDGER_REF#o1")));
}

/// 5,100 lines about "older" after the order's.
async fn more_lines(ctx: &Ctx, order_id: &str) {
    let at = detail::read(ctx, order_id).await.unwrap().ledger[0].at;
    for chunk in 0..51u64 {
        let writes = (0..100u64).map(|i| book::put_entry(&line(10 + chunk * 100 + i, "older", at)).unwrap()).collect();
        ctx.records.transact(writes).await.unwrap();
    }
}

/// Takes the index entries off every line, as an older version wrote them
/// (and so began no marker).
async fn unindex(ctx: &Ctx) {
    ctx.records.delete(&ledger_index::progress_key(), None).await.unwrap();
    let lines = book::entries(ctx, None, 1000).read_all().await.unwrap();
    for e in lines {
        let strip = vec![Change::Remove(GSI1PK.into()), Change::Remove(GSI1SK.into())];
        ctx.records.update(&Key::new(LEDGER_PK, e.seq.clone()), strip, None).await.unwrap();
    }
}

#[tokio::test]
async fn reconcile_indexes_older_lines_a_slice_at_a_time_and_then_reads_one_marker() {
    let (ctx, records, order_id, _dir) = fulfilled().await;
    // 5,100 older lines behind the order's: more than one run indexes.
    more_lines(&ctx, &order_id).await;
    unindex(&ctx).await;
    let older = async || ledger_index::referencing(&ctx, "older", None, 1000).read_all().await.unwrap().len();
    assert_eq!(older().await, 0);
    assert!(!ledger_index::complete(&ctx).await.unwrap());

    let named = book::entries(&ctx, None, 1000).read_all().await.unwrap();
    let named = named.iter().filter(|e| !e.reference.is_empty()).count() as u64;
    let first = ledger_index::backfill(&ctx).await.unwrap();
    assert!((4_990..=5_000).contains(&first), "one slice: {first}");
    assert!(!ledger_index::complete(&ctx).await.unwrap());
    // A line booked meanwhile is indexed when written; the next run ends.
    let newest = book::newest_first(&ctx, 1).next_page().await.unwrap().unwrap()[0].clone();
    let (version, _) = book::position(&newest.seq);
    ctx.records.transact(vec![book::put_entry(&line(version + 1, "newer", newest.at)).unwrap()]).await.unwrap();
    assert_eq!(first + ledger_index::backfill(&ctx).await.unwrap(), named, "each older line once");
    assert!(ledger_index::complete(&ctx).await.unwrap());
    assert_eq!(older().await, 5_100);
    assert_eq!(kinds(&detail::read(&ctx, &order_id).await.unwrap().ledger), ["sale", "hold"]);

    records.take();
    assert_eq!(ledger_index::backfill(&ctx).await.unwrap(), 0);
    assert_eq!(records.take(), 1, "done: one read");
}

#[tokio::test]
async fn a_ledger_indexed_from_its_start_is_done_at_once() {
    let (ctx, records, order_id, _dir) = fulfilled().await;
    more_lines(&ctx, &order_id).await;
    records.take();
    assert_eq!(ledger_index::backfill(&ctx).await.unwrap(), 0);
    assert_eq!(records.take(), 1, "the marker its first line left");
    assert!(ledger_index::complete(&ctx).await.unwrap());
}
