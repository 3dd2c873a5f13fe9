//! When a schedule breaks an invariant and `STOCKROOM_MODEL_DUMP` names a
//! directory: the stack's whole stock story, written to a file there, so the
//! failure explains itself. Off by default (the run pays nothing for it).
//!
//! What it writes, in this order: the violation; the stock ledger (every
//! entry in sequence: kind, file, reference, actor, reason, counts); per
//! order its records (order, payment, hold, fulfil claim); per subscription
//! its records (the subscription, its revoke intent, seat removals, usage);
//! per file its records (record, adjust intent, tombstones) and the storage
//! keys holding it; the stock counters.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;
use shared::domain::OrderStatus;
use shared::ports::{Index, Item, Query};
use shared::services::keys;

use crate::TestApp;

/// The env var naming the directory dumps go to.
pub const DUMP_DIR: &str = "STOCKROOM_MODEL_DUMP";

/// Writes the dump if asked for; returns what to add to the failure's text.
pub async fn on_failure(app: &TestApp, why: &str) -> String {
    let Some(dir) = std::env::var_os(DUMP_DIR) else { return String::new() };
    let text = match collect(app, why).await {
        Ok(t) => t,
        Err(e) => format!("violation: {why}\n(dump failed: {e})\n"),
    };
    let path = std::path::Path::new(&dir).join(format!("model-{}.txt", ulid::Ulid::new().to_string().to_lowercase()));
    let _ = std::fs::create_dir_all(&dir);
    match std::fs::write(&path, text) {
        Ok(()) => format!("\n(state dumped to {})", path.display()),
        Err(e) => format!("\n(could not write the dump to {}: {e})", path.display()),
    }
}

async fn all(app: &TestApp, index: Index, pk: &str) -> Result<Vec<Item>, String> {
    let (mut out, mut cursor) = (Vec::new(), None);
    loop {
        let q = Query::new(index, pk).limit(1000).after(cursor);
        let page = app.ctx().records.query(q).await.map_err(|e| e.to_string())?;
        out.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Names of stock files in a text (`acct-....session`).
fn names_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'))
        .filter(|w| w.starts_with("acct-"))
        .map(|w| w.trim_end_matches('.').to_string())
        .collect()
}

async fn collect(app: &TestApp, why: &str) -> Result<String, String> {
    let ctx = app.ctx();
    let mut out = String::new();
    let _ = writeln!(out, "violation: {why}\n");

    let mut files: BTreeSet<String> = names_in(why).into_iter().collect();
    let _ = writeln!(out, "== ledger (seq, kind, file, delta, counts after, reference, actor, reason, at)");
    for e in all(app, Index::Table, keys::LEDGER_PK).await? {
        let file = s(&e, "file");
        if !file.is_empty() {
            files.insert(file.to_string());
        }
        let _ = writeln!(
            out,
            "{} {:<9} {} d={} counts={} ref={} actor={} reason={:?} at={}",
            s(&e, "sk"),
            s(&e, "kind"),
            if file.is_empty() { "-" } else { file },
            e.get("delta").unwrap_or(&Value::Null),
            e.get("counts").unwrap_or(&Value::Null),
            s(&e, "reference"),
            s(&e, "actor"),
            s(&e, "reason"),
            e.get("at").unwrap_or(&Value::Null),
        );
    }

    let mut orders = BTreeSet::new();
    for status in OrderStatus::ALL {
        for o in all(app, Index::Gsi1, &keys::orders_by_status(status)).await? {
            orders.insert(s(&o, "order_id").to_string());
        }
    }
    let _ = writeln!(out, "\n== orders and their records");
    let mut subs = BTreeSet::new();
    for id in &orders {
        subs.insert(format!("S{id}"));
        for item in all(app, Index::Table, &keys::order_pk(id)).await? {
            if let Some(sid) = item.get("for_subscription").and_then(Value::as_str) {
                subs.insert(sid.to_string());
            }
            let _ = writeln!(out, "{}", compact(&item));
        }
    }
    let _ = writeln!(out, "\n== subscriptions and their records (revoke intents, seat removals)");
    for sid in &subs {
        for item in all(app, Index::Table, &format!("SUB#{sid}")).await? {
            if s(&item, "sk").starts_with("USAGE") || s(&item, "sk").starts_with("SEATS#") {
                continue;
            }
            let _ = writeln!(out, "{}", compact(&item));
        }
    }

    let mut listed = Vec::new();
    for prefix in ["unused/", "assigned/", "banned/", "frozen/"] {
        let mut after: Option<String> = None;
        loop {
            let page = ctx.files.list(prefix, after.as_deref(), 1000).await.map_err(|e| e.to_string())?;
            listed.extend(page.keys);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    for k in &listed {
        if let Some(n) = k.rsplit('/').next().filter(|n| n.starts_with("acct-")) {
            files.insert(n.to_string());
        }
    }
    let _ = writeln!(out, "\n== files: storage keys, then records (record, adjust intent, tombstones)");
    for f in &files {
        let here: Vec<&String> = listed.iter().filter(|k| k.rsplit('/').next() == Some(f.as_str())).collect();
        let _ = writeln!(out, "{f}: stored at {here:?}");
        for item in all(app, Index::Table, &format!("FILE#{f}")).await? {
            let _ = writeln!(out, "  {}", compact(&item));
        }
    }
    let counts = ctx.records.get(&keys::stock_counts()).await.map_err(|e| e.to_string())?;
    let _ = writeln!(out, "\n== counters: {}", counts.map(|c| compact(&c)).unwrap_or_default());
    Ok(out)
}

fn compact(item: &Item) -> String {
    serde_json::to_string(item).unwrap_or_default()
}
