//! `bench engines [PRELOAD] [ORDERS]`: what bounds `bench throughput`'s
//! ratio, tried on another kind of store. The embedded backend's one
//! writer spends an order's time in the B-tree pages its writes dirty (see
//! docs/BENCHMARKS.md, P2). This replays the writes of an order, as
//! `bench throughput` counts them (engines/load.rs), on redb and on fjall,
//! a log-structured store: PRELOAD orders of history first, then ORDERS
//! orders in commits of as many writes as the real writer's commits carry,
//! then lone small puts, each commit durable. It prints orders/s, ms and
//! KiB written per commit, and the ratio orders/s / lone puts/s, the same
//! ratio P2 takes. Only the writer's work is here: no HTTP, no JSON, and no
//! second proof of crash safety, which a store swap would need.

mod load;
mod stores;

use std::time::Instant;

use anyhow::{Context, bail};

use load::{Load, Rng, Write};
use stores::{BTree, Log, Store};

/// Orders per redb commit in `bench throughput 2000 16` (1.44-1.53 commits
/// per order).
const ORDERS_PER_COMMIT: f64 = 0.69;
/// Writes per commit while loading history.
const LOAD_BATCH: usize = 2000;
const LONE_PUTS: usize = 3000;

pub fn run(preload: u64, orders: u64) -> anyhow::Result<()> {
    if orders == 0 {
        bail!("ORDERS must be at least 1");
    }
    let dir = tempfile::tempdir().context("temp dir")?;
    println!(
        "bench engines: {preload} orders of history, then {orders} orders of 26 item writes in commits of \
         {ORDERS_PER_COMMIT} orders, then {LONE_PUTS} lone puts; in {}",
        dir.path().display()
    );
    let stores: [Box<dyn Store>; 2] =
        [Box::new(BTree::create(&dir.path().join("btree.redb"))?), Box::new(Log::create(&dir.path().join("log"))?)];
    for mut store in stores {
        replay(store.as_mut(), preload, orders, LONE_PUTS)?;
    }
    Ok(())
}

fn replay(store: &mut dyn Store, preload: u64, orders: u64, lone: usize) -> anyhow::Result<()> {
    let (mut load, mut rng) = (Load::default(), Rng(0x9e37_79b9_7f4a_7c15));
    let files = preload + orders + 1;
    for chunk in load.stock(files).chunks(LOAD_BATCH) {
        store.commit(chunk)?;
    }
    let history: Vec<Write> = (0..preload).flat_map(|i| load.order(i, &mut rng, files)).collect();
    for chunk in history.chunks(LOAD_BATCH) {
        store.commit(chunk)?;
    }

    let writes: Vec<Write> = (preload..preload + orders).flat_map(|i| load.order(i, &mut rng, files)).collect();
    let per_commit = ((writes.len() as f64 / orders as f64) * ORDERS_PER_COMMIT).round().max(1.0) as usize;
    let span = Span::start();
    let mut commits = 0;
    for chunk in writes.chunks(per_commit) {
        store.commit(chunk)?;
        commits += 1;
    }
    let (secs, wrote) = span.end();

    let span = Span::start();
    for n in 0..lone {
        let put =
            Write { pk: "BENCH#commit#0".into(), sk: format!("{n:08}"), size: Some(8), old_index: None, index: None };
        store.commit(&[put])?;
    }
    let (put_secs, put_wrote) = span.end();

    let orders_per_sec = orders as f64 / secs;
    let puts_per_sec = lone as f64 / put_secs;
    println!(
        "{}:\n  orders: {orders_per_sec:.0}/s, {commits} commits of {per_commit} writes, {:.2} ms and {:.1} KiB \
         written each\n  lone puts: {puts_per_sec:.0}/s, {:.2} ms and {:.1} KiB written each\n  ratio orders/s / \
         lone puts/s = {:.3}",
        store.name(),
        1000.0 * secs / commits as f64,
        wrote as f64 / 1024.0 / commits as f64,
        1000.0 * put_secs / lone as f64,
        put_wrote as f64 / 1024.0 / lone as f64,
        orders_per_sec / puts_per_sec
    );
    Ok(())
}

/// Wall time and bytes written (by every thread: a log-structured store
/// also flushes in the background) over a stretch of the run.
struct Span {
    started: Instant,
    wrote: u64,
}

impl Span {
    fn start() -> Self {
        Span { started: Instant::now(), wrote: crate::written_bytes() }
    }

    fn end(self) -> (f64, u64) {
        (self.started.elapsed().as_secs_f64(), crate::written_bytes() - self.wrote)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use shared::ports::Key;

    use super::*;
    use crate::commits::kind;

    /// The load is the mix `bench throughput` counts per order (all but the
    /// stock counters, which the stock queue writes for several orders).
    #[test]
    fn an_order_writes_what_bench_throughput_counts() {
        let (mut load, mut rng) = (Load::default(), Rng(7));
        let mut kinds: BTreeMap<String, u32> = BTreeMap::new();
        for w in load.order(1, &mut rng, 10) {
            *kinds.entry(kind(&Key::new(w.pk, w.sk))).or_default() += 1;
        }
        let want = [
            ("CREDIT/ACCOUNT", 1),
            ("CREDIT/ENTRY", 1),
            ("EVENT/EVENT", 1),
            ("EVENTS/*", 3),
            ("FILE/FILE", 1),
            ("LEDGER/*", 2),
            ("LIMIT/LIMIT", 2),
            ("OPEN/OPEN", 2),
            ("ORDER/BY_DATE", 1),
            ("ORDER/BY_EMAIL", 1),
            ("ORDER/HOLD", 2),
            ("ORDER/INTENT", 2),
            ("ORDER/ORDER", 3),
            ("ORDER/PAYMENT", 2),
            ("SUB/SUB", 1),
            ("XFER/XFER", 1),
        ];
        let got: Vec<(&str, u32)> = kinds.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_write_moves_its_index_entry_and_a_delete_drops_it() {
        let (mut load, mut rng) = (Load::default(), Rng(7));
        let writes = load.order(1, &mut rng, 10);
        let orders: Vec<&Write> = writes.iter().filter(|w| w.sk == "ORDER").collect();
        let entry = |g: &str| Some((g.to_string(), format!("{:020}", 1)));
        assert_eq!((&orders[0].old_index, &orders[0].index), (&None, &entry("ORDERS#pending")));
        assert_eq!((&orders[1].old_index, &orders[1].index), (&entry("ORDERS#pending"), &entry("ORDERS#paid")));
        let hold_gone = writes.iter().rfind(|w| w.sk == "HOLD").map(|w| (w.size, w.old_index.clone(), w.index.clone()));
        assert_eq!(hold_gone, Some((None, entry("HOLDS"), None)));
    }

    #[test]
    fn both_stores_take_the_load() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        replay(&mut BTree::create(&dir.path().join("b.redb"))?, 3, 4, 2)?;
        replay(&mut Log::create(&dir.path().join("log"))?, 3, 4, 2)?;
        Ok(())
    }
}
