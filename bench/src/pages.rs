//! `bench pages [N]`: the admin reads cost one page whatever the history.
//! N ledger entries, N orders (with their search pointers) and N events are
//! written straight through the Records port on the embedded backend; then
//! each read is timed on its first page and on a page from the middle (by
//! cursor), with the queries and items it read.

use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use shared::domain::{LedgerKind, OrderStatus, StockCounts, Timestamp};
use shared::ports::{Clock, Records, Write};
use shared::services::events::log::{self, LogQuery};
use shared::services::items::to_item;
use shared::services::ledger::{self, LedgerQuery};
use shared::services::model::LedgerEntry;
use shared::services::staff::orders::{self as staff_orders, OrderQuery};
use shared::services::store::outbox::{self, EventItem};
use shared::services::store::{ledger_index, stock};
use shared::services::{Ctx, keys};

use super::counting::{Counted, Counts, counted_embedded};

/// Writes per transaction while filling.
const BATCH: usize = 100;
/// History spread over this many days (events are kept 36).
const DAYS: i64 = 30;

pub async fn run(n: usize) -> anyhow::Result<()> {
    let n = n.max(2);
    let dir = tempfile::tempdir().context("temp dir")?;
    let Counted { ctx, counts, raw: store, clock } = counted_embedded(dir.path())?;
    let now = clock.now();
    let step = (DAYS * 86_400_000 / n as i64).max(1);
    let at = |i: usize| now.plus_millis(-(n as i64 - i as i64) * step);
    let t = Instant::now();
    let mid = fill(&store, n, &at).await?;
    println!(
        "bench pages: {n} ledger entries, orders and events, embedded backend; setup {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let since = at(0).millis().to_string();
    // One order's line, a quarter into the history: below both pages' starts.
    let one_order = || Read::Ledger(format!("reference=order-{}", n / 4));
    for (label, kind) in [
        ("ledger", Read::Ledger(String::new())),
        ("ledger since", Read::Ledger(format!("since={since}"))),
        ("ledger kind=sale (1 in 10)", Read::Ledger("kind=sale".into())),
        ("ledger reference= (one order's line), lines not yet indexed: a walk", one_order()),
        ("orders", Read::Orders(None)),
        ("orders status=fulfilled", Read::Orders(Some(OrderStatus::Fulfilled))),
        ("events", Read::Events(None)),
        ("events since", Read::Events(Some(since.clone()))),
    ] {
        show(&ctx, &counts, label, &kind, &mid).await?;
    }
    // As reconcile's backfill ends, or a ledger begun by this version.
    ledger_index::begun_indexed(&store).await;
    show(&ctx, &counts, "ledger reference= (one order's line), every line indexed", &one_order(), &mid).await
}

/// Times `read` on its first page and on a page from the middle.
async fn show(ctx: &Ctx, counts: &Counts, label: &str, read: &Read, mid: &Middle) -> anyhow::Result<()> {
    for (page, cursor) in [("first", None), ("middle", Some(mid.cursor(read)))] {
        counts.reset();
        let t = Instant::now();
        let got = read.read(ctx, cursor).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  {label}, {page} page: {got} returned, {ms:.2} ms, {} queries, {} gets, {} items read",
            counts.query.load(std::sync::atomic::Ordering::Relaxed),
            counts.get.load(std::sync::atomic::Ordering::Relaxed),
            counts.items.load(std::sync::atomic::Ordering::Relaxed),
        );
    }
    Ok(())
}

/// One admin read, limit 100.
enum Read {
    Ledger(String),
    Orders(Option<OrderStatus>),
    Events(Option<String>),
}

impl Read {
    async fn read(&self, ctx: &Ctx, cursor: Option<String>) -> anyhow::Result<usize> {
        Ok(match self {
            Read::Ledger(filter) => {
                let mut raw = ledger::RawQuery { limit: Some("100".into()), cursor, ..Default::default() };
                if let Some(k) = filter.strip_prefix("kind=") {
                    raw.kind = Some(k.into());
                }
                if let Some(s) = filter.strip_prefix("since=") {
                    raw.since = Some(s.into());
                }
                if let Some(r) = filter.strip_prefix("reference=") {
                    raw.reference = Some(r.into());
                }
                ledger::read(ctx, &LedgerQuery::parse(raw)?).await?.entries.len()
            }
            Read::Orders(status) => {
                let raw = staff_orders::RawQuery {
                    status: status.map(|s| s.as_str().to_string()),
                    limit: Some("100".into()),
                    cursor,
                    ..Default::default()
                };
                staff_orders::list(ctx, &OrderQuery::parse(raw)?).await?.orders.len()
            }
            Read::Events(since) => {
                let raw = log::RawQuery { since: since.clone(), cursor, limit: Some(100), ..Default::default() };
                log::read(ctx, &LogQuery::parse(raw)?).await?.events.len()
            }
        })
    }
}

/// Cursors that start a page at the middle of each history.
struct Middle {
    ledger_seq: String,
    order_sk: String,
    status_sk: String,
    event_id: String,
}

impl Middle {
    fn cursor(&self, read: &Read) -> String {
        match read {
            Read::Ledger(_) => ledger::encode_cursor(&self.ledger_seq),
            Read::Orders(None) => staff_orders::encode_cursor(&self.order_sk),
            Read::Orders(Some(_)) => staff_orders::encode_cursor(&self.status_sk),
            Read::Events(_) => self.event_id.clone(),
        }
    }
}

async fn fill(records: &dyn Records, n: usize, at: &dyn Fn(usize) -> Timestamp) -> anyhow::Result<Middle> {
    let mut batch = Vec::new();
    let mut mid = None;
    for i in 0..n {
        let t = at(i);
        let seq = keys::ledger(i as u64 + 1, 0).sk;
        // One sale in ten, so a kind filter must read past the rest.
        let kind = if i % 10 == 0 { LedgerKind::Sale } else { LedgerKind::Restock };
        let entry = LedgerEntry {
            id: format!("L{i}"),
            seq: seq.clone(),
            at: t,
            kind,
            file: Some(format!("f{i}.png")),
            delta: 1,
            before: i as i64,
            after: i as i64 + 1,
            counts: StockCounts::default(),
            reason: "bench".into(),
            reference: format!("order-{i}"),
            actor: "bench".into(),
        };
        // As this version books it: indexed by its reference.
        batch.push(stock::put_entry(&entry)?);
        let order_id = format!("order-{i:08}");
        let order = json!({"order_id": order_id, "email": format!("u{}@example.com", i % 1000), "user_id": "u",
            "product_id": "bench", "files": 1, "interval_seconds": 60, "validity_days": 30,
            "price": {"amount": 500, "currency": "usd"}, "provider": "stripe", "status": "fulfilled",
            "created_at": t, "updated_at": t, "reserved_until": t, "paid_at": t});
        let status_sk = keys::sort_at(t, &order_id);
        let gsi = (keys::orders_by_status(OrderStatus::Fulfilled), status_sk.clone());
        batch.push(Write::Put { item: to_item(&keys::order(&order_id), &order, Some(gsi), None)?, cond: None });
        let pointer = json!({"order_id": order_id, "created_at": t});
        let gsi = ("ORDERS_BY_DATE".to_string(), status_sk.clone());
        let key = shared::ports::Key::new(keys::order(&order_id).pk, "BY_DATE");
        batch.push(Write::Put { item: to_item(&key, &pointer, Some(gsi), None)?, cond: None });
        let event = EventItem { id: outbox::new_id(t), kind: "order.paid".into(), at: t, data: json!({}), v: 1 };
        let key = outbox::key(&event.id).context("event id")?;
        batch.push(Write::Put { item: to_item(&key, &event, None, Some(t.plus_days(36).secs()))?, cond: None });
        if i == n / 2 {
            mid = Some(Middle { ledger_seq: seq, order_sk: status_sk.clone(), status_sk, event_id: event.id });
        }
        if batch.len() >= BATCH {
            records.transact(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        records.transact(batch).await?;
    }
    mid.context("no middle")
}
