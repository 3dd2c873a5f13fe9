//! The end of a schedule: finish the work, reconcile, ask the checker.

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};
use shared::domain::OrderStatus;
use shared::ports::{Index, Query};
use shared::services::{invariants, keys, worker};

use super::apply::{check, send};
use crate::TestApp;

/// The visibility timeout the test stack's worker uses.
const VISIBILITY: Duration = Duration::from_secs(1);

/// Handles what is left on the queue, lets stale work go stale, reconciles,
/// and asks the checker (through reconcile's report) whether every
/// invariant holds.
pub async fn settle(app: &TestApp) -> Result<(), String> {
    let mut last = Value::Null;
    for round in 0..4 {
        drained(app).await?;
        if round > 0 {
            // Stale intents get finished and lost paid orders requeued.
            let req = app.client.post(format!("{}/sandbox/clock", app.url)).json(&json!({"advance_seconds": 600}));
            check(send(req).await?).await?;
        }
        let req =
            app.client.post(format!("{}/admin/reconcile", app.url)).bearer_auth(app.admin_token()).json(&json!({}));
        let r = send(req).await?;
        let status = r.status();
        last = r.json().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("reconcile answered {status}: {last}"));
        }
        drained(app).await?;
        let inv = &last["invariants"];
        let clean = inv["violations"].as_array().is_some_and(Vec::is_empty);
        let quiet = inv["in_flight"].as_array().is_some_and(Vec::is_empty);
        if clean && quiet && inv["settled"] == true {
            return checked(app).await;
        }
    }
    let why = format!("invariants after reconcile: {}", last["invariants"]);
    Err(format!("{why}{}", super::dump::on_failure(app, &why).await))
}

/// The checker once more, directly, on the stack at rest.
async fn checked(app: &TestApp) -> Result<(), String> {
    let report = invariants::check(app.ctx()).await.map_err(|e| format!("invariant checker: {e}"))?;
    if !(report.ok() && report.settled && report.in_flight.is_empty()) {
        let why = format!("invariants at rest: {}", serde_json::to_string(&report).unwrap_or_default());
        return Err(format!("{why}{}", super::dump::on_failure(app, &why).await));
    }
    one_event_per_change(app).await
}

/// Every committed move of an order recorded its event exactly once: no
/// order has two events of one status, and each order at rest in a status
/// that has an event has that event.
async fn one_event_per_change(app: &TestApp) -> Result<(), String> {
    use std::collections::{BTreeMap, BTreeSet};

    use shared::services::store::outbox;
    // Every order at rest, by status; events are read from the first one's
    // day on (schedules move the clock by weeks, past the log's own window).
    let mut orders = Vec::new();
    for status in OrderStatus::ALL {
        let q = Query::new(Index::Gsi1, keys::orders_by_status(status)).limit(1000);
        let page = app.ctx().records.query(q).await.map_err(|e| e.to_string())?;
        for item in page.items {
            let id = item["order_id"].as_str().unwrap_or_default().to_string();
            let created = item["created_at"].as_i64().unwrap_or_default();
            orders.push((id, status, created));
        }
    }
    let Some(first) = orders.iter().map(|o| o.2).min() else { return Ok(()) };
    let first_day = outbox::day_of(shared::domain::Timestamp(first));
    let today = outbox::day_of(app.ctx().clock.now());
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut subs: BTreeSet<(String, String)> = BTreeSet::new();
    for day in first_day..=today + 1 {
        let mut after: Option<String> = None;
        loop {
            let (events, more) = outbox::day(app.ctx(), day, after.as_deref(), 500, false)
                .await
                .map_err(|e| format!("event log: {e}"))?;
            after = events.last().map(|e| e.id.clone());
            for e in events.iter().filter(|e| STATUS_EVENTS.contains(&e.kind.as_str())) {
                let order = e.data["order_id"].as_str().unwrap_or_default().to_string();
                if !seen.entry(order.clone()).or_default().insert(e.kind.clone()) {
                    return Err(format!("order {order}: {} recorded twice", e.kind));
                }
            }
            // A subscription starts once and ends once.
            for e in events.iter().filter(|e| ONCE_PER_SUBSCRIPTION.contains(&e.kind.as_str())) {
                let sub = e.data["subscription_id"].as_str().unwrap_or_default().to_string();
                if !subs.insert((sub.clone(), e.kind.clone())) {
                    return Err(format!("subscription {sub}: {} recorded twice", e.kind));
                }
            }
            if !more || after.is_none() {
                break;
            }
        }
    }
    for (order, status, _) in orders {
        let want = format!("order.{status}");
        if STATUS_EVENTS.contains(&want.as_str()) && !seen.get(&order).is_some_and(|kinds| kinds.contains(&want)) {
            return Err(format!("order {order} is {status} but no {want} event was recorded"));
        }
    }
    Ok(())
}

/// Events a subscription records at most once in its life.
const ONCE_PER_SUBSCRIPTION: [&str; 2] = ["subscription.activated", "subscription.ended"];

/// The events an order's move records, one per status with one.
const STATUS_EVENTS: [&str; 7] = [
    "order.paid",
    "order.partially_paid",
    "order.fulfilled",
    "order.backordered",
    "order.refunded",
    "order.expired",
    "order.failed",
];

/// Until no order is paid but unfulfilled and no intent is open (bounded).
/// It takes due messages off the queue itself, racing the stack's worker
/// for them as a second consumer would, instead of sleeping until the
/// worker's next poll; it sleeps only while a message is in someone's hands.
async fn drained(app: &TestApp) -> Result<(), String> {
    for _ in 0..400 {
        if worker::drain_once(app.ctx(), VISIBILITY).await.map_err(|e| format!("worker: {e}"))? > 0 {
            continue;
        }
        let paid = count(app, &keys::orders_by_status(OrderStatus::Paid)).await?;
        let intents = count(app, keys::INTENTS_INDEX).await?;
        if paid + intents == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn count(app: &TestApp, pk: &str) -> Result<usize, String> {
    let page = app.ctx().records.query(Query::new(Index::Gsi1, pk).limit(1000)).await.map_err(|e| e.to_string())?;
    Ok(page.items.len())
}

/// How many orders ended in each status.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcomes(pub [usize; OrderStatus::ALL.len()]);

impl Outcomes {
    pub async fn of(app: &TestApp) -> Result<Self, String> {
        let mut out = Outcomes::default();
        for (n, status) in out.0.iter_mut().zip(OrderStatus::ALL) {
            *n = count(app, &keys::orders_by_status(status)).await?;
        }
        Ok(out)
    }

    pub fn get(&self, status: OrderStatus) -> usize {
        OrderStatus::ALL.iter().position(|s| *s == status).map_or(0, |i| self.0[i])
    }

    pub fn add(&mut self, other: &Outcomes) {
        self.0.iter_mut().zip(other.0).for_each(|(a, b)| *a += b);
    }
}

impl fmt::Display for Outcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            OrderStatus::ALL.iter().zip(self.0).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
        write!(f, "{}", parts.join(", "))
    }
}
