//! Abuse limits: held stock is stock, so nobody may lock it all up for free.
//! Each open (unpaid, holding) order counts against its email and client
//! address together, and against its client address alone; the count goes
//! down once, in the same write that moves the order out of the open states.
//! Never against the email alone: then a stranger who knows a buyer's email
//! could use up that buyer's slots and lock them out for the whole hold.

use serde_json::Value;

use super::orders::OrderRecord;
use crate::ports::{Change, Cond, Key, Write};

/// The counter for one email from one client address (the email alone when
/// the edge saw no address, as on the local stack).
pub fn email_counter(email: &str, ip: Option<&str>) -> Key {
    match ip {
        Some(ip) => Key::new(format!("LIMIT#email#{email}#ip#{ip}"), "LIMIT"),
        None => Key::new(format!("LIMIT#email#{email}"), "LIMIT"),
    }
}

pub fn ip_counter(ip: &str) -> Key {
    Key::new(format!("LIMIT#ip#{ip}"), "LIMIT")
}

/// Points at the open order for one email and product from one client
/// address, so a repeated checkout (a double click, a retry without its
/// Idempotency-Key) holds no more stock. Scoped by address so that nobody
/// else's checkout for that email can block the buyer.
pub fn open_pointer(email: &str, ip: Option<&str>, topic: &str) -> Key {
    match ip {
        Some(ip) => Key::new(format!("OPEN#{email}#ip#{ip}#{topic}"), "OPEN"),
        None => Key::new(format!("OPEN#{email}#{topic}"), "OPEN"),
    }
}

/// Counts one more open order on `key`; fails its condition at `max`.
pub fn take(key: Key, max: u32) -> Write {
    let below = Cond::Or(vec![Cond::Absent("open".into()), Cond::Le("open".into(), i64::from(max) - 1)]);
    Write::Update { key, changes: vec![Change::Add("open".into(), 1)], cond: Some(below) }
}

/// The writes that give an order's slots back when it stops being open.
pub fn give_back(order: &OrderRecord) -> Vec<Write> {
    let mut writes: Vec<Write> = order
        .limit_keys
        .iter()
        .map(|pk| Write::Update {
            key: Key::new(pk.clone(), "LIMIT"),
            changes: vec![Change::Add("open".into(), -1)],
            cond: None,
        })
        .collect();
    if let Some(pk) = &order.open_pointer {
        let mine = Cond::Eq("order_id".into(), Value::from(order.order_id.clone()));
        // Unconditional would be wrong only if another order owned it, and
        // only the owner ever writes it; the guard keeps that true.
        writes.push(Write::Delete {
            key: Key::new(pk.clone(), "OPEN"),
            cond: Some(Cond::Or(vec![Cond::NotExists, mine])),
        });
    }
    writes
}

/// The open-order pointer of a new order (fails its condition if another
/// order holds it).
pub fn put_pointer(pointer: &Key, order_id: &str) -> Result<Write, crate::services::ServiceError> {
    let item = crate::services::items::to_item(pointer, &serde_json::json!({"order_id": order_id}), None, None)?;
    Ok(Write::Put { item, cond: Some(Cond::NotExists) })
}

/// The order a pointer points at, if any.
pub async fn pointed(
    ctx: &crate::services::Ctx,
    pointer: &Key,
) -> Result<Option<String>, crate::services::ServiceError> {
    let Some(item) = ctx.records.get(pointer).await? else { return Ok(None) };
    Ok(item.get("order_id").and_then(|v| v.as_str()).map(str::to_string))
}

/// Clears a pointer left behind by `order_id` (if it still points there).
pub async fn clear_pointer(
    ctx: &crate::services::Ctx,
    pointer: &Key,
    order_id: &str,
) -> Result<(), crate::services::ServiceError> {
    let mine = Cond::Eq("order_id".into(), order_id.into());
    match ctx.records.delete(pointer, Some(mine)).await {
        Ok(()) | Err(crate::ports::RecordError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// How long after an order's link was mailed on a repeated checkout no
/// other is: repeats cannot flood the owner's inbox or the shop's mail.
pub const LINK_MAIL_WINDOW_MILLIS: i64 = 10 * 60 * 1000;

/// The mark that `order_id`'s link was mailed at `now`: written with the
/// `order.link_requested` event, and refused (so no event is written)
/// while an earlier mark's window is still open.
pub fn link_mailed(order_id: &str, now: crate::domain::Timestamp) -> Result<Write, crate::services::ServiceError> {
    let key = Key::new(format!("LINKMAIL#{order_id}"), "LINKMAIL");
    let until = now.plus_millis(LINK_MAIL_WINDOW_MILLIS);
    let item =
        crate::services::items::to_item(&key, &serde_json::json!({"until": until.millis()}), None, Some(until.secs()))?;
    let lapsed = Cond::Or(vec![Cond::NotExists, Cond::Le("until".into(), now.millis())]);
    Ok(Write::Put { item, cond: Some(lapsed) })
}
