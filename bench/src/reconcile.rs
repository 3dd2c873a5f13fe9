//! `bench reconcile N`: an embedded stack in a temporary directory with N
//! stock files (90% new under unused/, 10% assigned, ten per user, each user
//! with the fulfilled order and live subscription fulfilment would have
//! written), then reconcile (it adopts the new ones), reconcile again on the
//! settled stock, and the bare listings for comparison. For each run it
//! prints the time (and CPU time), peak RSS (VmHWM, reset before the run), peak live heap
//! above the start, requests by kind and the report. A correct shop checks
//! clean: any invariant violation fails the bench.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;
use shared::adapters::embedded::FILES_DIR;
use shared::domain::{LedgerKind, Location, OrderStatus, StockCounts, Timestamp};
use shared::ports::{Clock, Index, Query, Records, Write};
use shared::services::items::to_item;
use shared::services::jobs::StepReport;
use shared::services::model::{CountsRecord, FileRecord, LedgerEntry, SubscriptionRecord};
use shared::services::store::{ledger_index, stock};
use shared::services::{Ctx, catalog, keys, reconcile};

use super::counting::{Counted, counted_embedded};
use super::{cpu_secs, heap, mib, proc_kib};

/// Every tenth file is assigned, ten to a user.
const ASSIGNED_EVERY: usize = 10;
const FILES_PER_USER: usize = 10;

pub async fn bench(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let Counted { ctx, counts, raw: store, clock } = counted_embedded(dir.path())?;
    catalog::seed(&ctx).await?;
    let started = Instant::now();
    let (assigned, users) = stock_files(&dir.path().join(FILES_DIR), n, &store, clock.as_ref()).await?;
    println!(
        "bench reconcile: {n} files ({} new under unused/, {assigned} assigned with records to {users} users with \
         subscriptions), embedded backend; setup {:.1} s",
        n - assigned,
        started.elapsed().as_secs_f64()
    );
    let mut broken = 0;
    for label in
        ["run 1 (adopts the new files)", "run 2 (steady state)", "baseline (the listings and index pages alone)"]
    {
        counts.reset();
        heap::reset_peak();
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let (rss0, heap0) = (proc_kib("VmRSS:"), heap::current());
        let (t, cpu0) = (Instant::now(), cpu_secs());
        let r = if label.starts_with("baseline") {
            read_all(&ctx).await?
        } else {
            reconcile::run(&ctx, "bench").await.all_ok()?
        };
        let (secs, cpu) = (t.elapsed().as_secs_f64(), cpu_secs() - cpu0);
        let hwm = if hwm_reset { "" } else { " (VmHWM not reset: whole process)" };
        println!("{label}: {secs:.2} s ({cpu:.2} s CPU)");
        println!(
            "  peak RSS {:.1} MiB{hwm} (RSS before {:.1} MiB); peak live heap {:.1} MiB above the {:.1} MiB at start",
            mib(proc_kib("VmHWM:") * 1024),
            mib(rss0 * 1024),
            mib(heap::peak().saturating_sub(heap0) as u64),
            mib(heap0 as u64)
        );
        println!("  requests: {}", counts.summary());
        if !label.starts_with("baseline") {
            let inv = &r.invariants;
            let found = inv.violations.len() as u64 + inv.more;
            println!("  invariant violations: {found} (settled {})", inv.settled);
            println!("  report: {}", serde_json::to_string(&r)?);
            broken += found + u64::from(!inv.settled);
        }
    }
    if broken > 0 {
        bail!("the checker found {broken} invariant violations (or an unsettled check) in a correct shop");
    }
    Ok(())
}

/// What any pass costs on this backend: every listing page and every
/// FILES index page, read and dropped.
async fn read_all(ctx: &Ctx) -> anyhow::Result<reconcile::ReconcileReport> {
    let mut scanned = 0;
    for prefix in ["unused/", "assigned/", "banned/", "frozen/"] {
        let mut after: Option<String> = None;
        loop {
            let page = ctx.files.list(prefix, after.as_deref(), 1000).await?;
            scanned += page.keys.len() as u64;
            match page.next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
    }
    for at in ["unused", "assigned"] {
        let mut cursor = None;
        loop {
            let q = Query::new(Index::Gsi1, keys::files_at(at)).limit(1000).after(cursor);
            match ctx.records.query(q).await?.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(reconcile::ReconcileReport { scanned, ..Default::default() })
}

/// Puts the files straight into the tree (as an upload would) and writes
/// the records, orders, subscriptions, ledger entry and counters of the
/// assigned ones. Returns how many files are assigned, and to how many users.
async fn stock_files(
    root: &Path,
    n: usize,
    records: &impl Records,
    clock: &dyn Clock,
) -> anyhow::Result<(usize, usize)> {
    let mut batch = Vec::new();
    let mut owned: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..n {
        // Spread names so creation order is not name order.
        let name = format!("acct-{:08x}-{i:07}.session", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32);
        let key = if i % ASSIGNED_EVERY == 0 {
            let user = format!("u{:06}", i / (ASSIGNED_EVERY * FILES_PER_USER));
            let rec = FileRecord {
                name: name.clone(),
                location: Location::Assigned,
                user_id: Some(user.clone()),
                order_id: Some(order_id(&user)),
                updated_at: clock.now(),
                ban_on_return: false,
            };
            let gsi = (keys::files_at("assigned"), name.clone());
            batch.push(Write::Put { item: to_item(&keys::file(&name), &rec, Some(gsi), None)?, cond: None });
            flush(records, &mut batch, 100).await?;
            owned.entry(user.clone()).or_default().push(name.clone());
            format!("assigned/{user}/{name}")
        } else {
            format!("unused/{name}")
        };
        let path = root.join(&key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, b"session").with_context(|| format!("writing {key}"))?;
    }
    let assigned: usize = owned.values().map(Vec::len).sum();
    let now = clock.now();
    for (user, files) in &owned {
        let (order, sub) = fulfilled(user, files, now)?;
        batch.extend([order, sub]);
        flush(records, &mut batch, 100).await?;
    }
    flush(records, &mut batch, 1).await?;
    let counts = StockCounts { assigned: assigned as i64, ..StockCounts::default() };
    let entry = LedgerEntry {
        id: "L000000000001.000".into(),
        seq: keys::ledger(1, 0).sk,
        at: now,
        kind: LedgerKind::Restock,
        file: None,
        delta: 0,
        before: 0,
        after: 0,
        counts,
        reason: format!("bench fixture: {assigned} files sold earlier"),
        reference: "bench".into(),
        actor: "bench".into(),
    };
    let counters = CountsRecord { counts, version: 1 };
    // As this version's first stock change leaves a ledger: marked indexed.
    ledger_index::begun_indexed(records).await;
    records
        .transact(vec![
            stock::put_entry(&entry)?,
            Write::Put { item: to_item(&keys::stock_counts(), &counters, None, None)?, cond: None },
        ])
        .await?;
    Ok((assigned, owned.len()))
}

async fn flush(records: &impl Records, batch: &mut Vec<Write>, at: usize) -> anyhow::Result<()> {
    if batch.len() >= at {
        records.transact(std::mem::take(batch)).await?;
    }
    Ok(())
}

fn order_id(user: &str) -> String {
    format!("order-{user}")
}

/// The fulfilled order and live subscription of one user, as fulfilment
/// writes them.
fn fulfilled(user: &str, files: &[String], now: Timestamp) -> anyhow::Result<(Write, Write)> {
    let (order_id, sub_id) = (order_id(user), format!("Sorder-{user}"));
    let order = json!({"order_id": order_id, "email": format!("{user}@example.com"), "user_id": user,
        "product_id": "bench", "files": files.len(), "interval_seconds": 60, "validity_days": 30,
        "price": {"amount": 500, "currency": "usd"}, "provider": "stripe", "status": "fulfilled",
        "created_at": now, "updated_at": now, "reserved_until": now, "paid_at": now,
        "subscription_id": sub_id});
    let gsi = (keys::orders_by_status(OrderStatus::Fulfilled), keys::sort_at(now, &order_id));
    let sub = SubscriptionRecord {
        subscription_id: sub_id.clone(),
        order_id: order_id.clone(),
        user_id: user.to_string(),
        email: format!("{user}@example.com"),
        product_id: "bench".into(),
        files: files.to_vec(),
        interval_seconds: 60,
        valid_until: now.plus_days(30),
        created_at: now,
        ended: None,
        grace_noted: false,
        rev: 0,
        flagged: Vec::new(),
        reminded: None,
        replacements: Vec::new(),
    };
    let sub_gsi = (keys::SUBS_INDEX.to_string(), keys::sort_at(sub.valid_until, &sub_id));
    Ok((
        Write::Put { item: to_item(&keys::order(&order_id), &order, Some(gsi), None)?, cond: None },
        Write::Put { item: to_item(&keys::subscription(&sub_id), &sub, Some(sub_gsi), None)?, cond: None },
    ))
}
