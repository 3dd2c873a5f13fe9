//! Orders and the records kept beside them under `ORDER#{id}`: the order,
//! its payment (invoice), its stock hold and its fulfilment claim (intent).
//! Orders sit in the `ORDERS#{status}` index by last change, holds in
//! `HOLDS` by expiry, unfinished claims in `INTENTS` by creation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::items::{from_item, mark_done, to_item, value};
use super::super::{Ctx, ServiceError};
use super::Pages;
use crate::domain::{Money, OrderStatus, ProviderKind, Timestamp};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Key, Query, SkRange, Write};

fn pk(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}
pub fn key(order_id: &str) -> Key {
    Key::new(pk(order_id), "ORDER")
}
pub fn payment_key(order_id: &str) -> Key {
    Key::new(pk(order_id), "PAYMENT")
}
pub fn hold_key(order_id: &str) -> Key {
    Key::new(pk(order_id), "HOLD")
}
pub fn intent_key(order_id: &str) -> Key {
    Key::new(pk(order_id), "INTENT")
}

/// What an order buys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new subscription.
    #[default]
    New,
    /// More time for `for_subscription` (its files stay, unless it ended).
    Renew,
    /// More files for `for_subscription`.
    ExtraFiles,
    /// More days for `for_subscription`.
    Extend,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order_id: String,
    pub email: String,
    pub user_id: String,
    pub product_id: String,
    pub files: u32,
    pub interval_seconds: u32,
    pub validity_days: u32,
    pub price: Money,
    pub provider: ProviderKind,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub reserved_until: Timestamp,
    #[serde(default)]
    pub paid_at: Option<Timestamp>,
    /// What is still missing when partially paid ("0.0002 btc").
    #[serde(default)]
    pub missing: Option<String>,
    /// What the provider said arrived ("0.0010 btc"), kept when the order
    /// lapses so money received for an unpaid order stays visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// What arrived beyond the price, to give back or credit by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overpaid: Option<String>,
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// The provider's last status or event type, for support.
    #[serde(default)]
    pub provider_status: Option<String>,
    /// Limit counters this open order counts against (their `pk`s).
    #[serde(default)]
    pub limit_keys: Vec<String>,
    /// The open-order pointer this order owns (its `pk`), if any.
    #[serde(default)]
    pub open_pointer: Option<String>,
    #[serde(default)]
    pub purpose: Purpose,
    /// The subscription a renewal or add-on is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_subscription: Option<String>,
    /// Loyalty credits spent on this order, and the price they cover.
    #[serde(default)]
    pub credits: i64,
    #[serde(default)]
    pub credits_minor: i64,
    /// Staff who refunded it, how the money went back (`stripe`, `by_hand`,
    /// `credits_only`) and the provider's refund id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// Staff who took the purchase out of credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_deactivated_by: Option<String>,
}

impl OrderRecord {
    /// What the payment provider is to collect: the price less credits.
    pub fn amount_due(&self) -> Money {
        Money::new(self.price.amount - self.credits_minor, self.price.currency.clone())
    }
}

/// The invoice an order is paid through.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub order_id: String,
    pub provider: ProviderKind,
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub pay_address: Option<String>,
    #[serde(default)]
    pub pay_amount: Option<String>,
    #[serde(default)]
    pub pay_currency: Option<String>,
    #[serde(default)]
    pub checkout_url: Option<String>,
    #[serde(default)]
    pub pay_currency_requested: Option<String>,
}

/// Stock held for an unpaid order until `expires_at`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HoldRecord {
    pub order_id: String,
    pub count: u32,
    pub expires_at: Timestamp,
}

/// Which files a fulfilment claimed, written before any file moves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntentRecord {
    pub order_id: String,
    pub user_id: String,
    pub files: Vec<String>,
    pub created_at: Timestamp,
    pub done: bool,
}

/// Orders by status, oldest change first (the scheduled jobs read these).
fn by_status(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}
/// The index partition of orders in `status` (staff listings read it).
pub fn status_partition(status: OrderStatus) -> String {
    by_status(status)
}
/// Holds by expiry.
const HOLDS: &str = "HOLDS";

/// An order with the records kept beside it (one query reads them all).
#[derive(Clone, Debug)]
pub struct OrderBundle {
    pub order: OrderRecord,
    pub payment: Option<PaymentRecord>,
    pub hold: Option<HoldRecord>,
    pub intent: Option<IntentRecord>,
}

pub async fn load(ctx: &Ctx, order_id: &str) -> Result<Option<OrderBundle>, ServiceError> {
    let page = ctx.records.query(Query::new(Index::Table, pk(order_id)).sk(SkRange::All).limit(10)).await?;
    let (mut order, mut payment, mut hold, mut intent) = (None, None, None, None);
    for item in page.items {
        match item.get("sk").and_then(Value::as_str) {
            Some("ORDER") => order = Some(from_item::<OrderRecord>(item)?),
            Some("PAYMENT") => payment = Some(from_item(item)?),
            Some("HOLD") => hold = Some(from_item(item)?),
            Some("INTENT") => intent = Some(from_item(item)?),
            _ => {}
        }
    }
    Ok(order.map(|order| OrderBundle { order, payment, hold, intent }))
}

pub async fn get(ctx: &Ctx, order_id: &str) -> Result<Option<OrderRecord>, ServiceError> {
    match ctx.records.get(&key(order_id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

pub async fn payment(ctx: &Ctx, order_id: &str) -> Result<Option<PaymentRecord>, ServiceError> {
    match ctx.records.get(&payment_key(order_id)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

/// Orders in `status`, oldest change first, changed at or before `upto`.
pub fn with_status(ctx: &Ctx, status: OrderStatus, upto: Option<Timestamp>, page: usize) -> Pages<'_, OrderRecord> {
    let range = match upto {
        Some(t) => super::up_to(super::sort_at(t, "~")),
        None => SkRange::All,
    };
    Pages::new(ctx, Query::new(Index::Gsi1, by_status(status)).sk(range).limit(page))
}

/// Holds whose expiry is at or before `upto`, soonest first.
pub fn holds_due(ctx: &Ctx, upto: Timestamp) -> Pages<'_, HoldRecord> {
    Pages::new(ctx, Query::new(Index::Gsi1, HOLDS).sk(super::up_to(super::sort_at(upto, "~"))).limit(100))
}

/// A new order, in its status index.
pub fn put_new(order: &OrderRecord) -> Result<Write, ServiceError> {
    let gsi = (by_status(order.status), super::sort_at(order.updated_at, &order.order_id));
    Ok(Write::Put { item: to_item(&key(&order.order_id), order, Some(gsi), None)?, cond: Some(Cond::NotExists) })
}

pub fn put_payment(p: &PaymentRecord) -> Result<Write, ServiceError> {
    Ok(Write::Put { item: to_item(&payment_key(&p.order_id), p, None, None)?, cond: Some(Cond::NotExists) })
}

pub fn put_hold(h: &HoldRecord) -> Result<Write, ServiceError> {
    let gsi = (HOLDS.to_string(), super::sort_at(h.expires_at, &h.order_id));
    Ok(Write::Put { item: to_item(&hold_key(&h.order_id), h, Some(gsi), None)?, cond: Some(Cond::NotExists) })
}

pub fn delete_hold(order_id: &str) -> Write {
    Write::Delete { key: hold_key(order_id), cond: Some(Cond::Exists) }
}

/// A claim, once: in the INTENTS index until done.
pub fn put_intent(i: &IntentRecord) -> Result<Write, ServiceError> {
    let gsi = (super::INTENTS_INDEX.to_string(), super::sort_at(i.created_at, &i.order_id));
    Ok(Write::Put { item: to_item(&intent_key(&i.order_id), i, Some(gsi), None)?, cond: Some(Cond::NotExists) })
}

/// The claim's files are where they belong now.
pub fn intent_done(order_id: &str) -> Write {
    mark_done(intent_key(order_id))
}

/// What else a status change records on the order. Absent fields are left
/// as they are.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub paid_at: Option<Timestamp>,
    pub provider_status: Option<String>,
    /// What is still missing; a move to paid clears it.
    pub missing: Option<String>,
    pub received: Option<String>,
    pub overpaid: Option<String>,
    pub subscription_id: Option<String>,
    pub refunded_by: Option<String>,
    pub refund_method: Option<String>,
    pub refund_id: Option<String>,
}

/// Moves the order from `from` to `to` (guarded: still `from`), keeping its
/// status index current and recording `facts`.
pub fn moved(
    order_id: &str,
    from: OrderStatus,
    to: OrderStatus,
    now: Timestamp,
    facts: &Facts,
) -> Result<Write, ServiceError> {
    let mut changes = vec![
        Change::Set("status".into(), value(&to)?),
        Change::Set("updated_at".into(), value(&now)?),
        Change::Set(GSI1PK.into(), by_status(to).into()),
        Change::Set(GSI1SK.into(), super::sort_at(now, order_id).into()),
    ];
    if to == OrderStatus::Paid {
        changes.push(Change::Remove("missing".into()));
    }
    let set = |name: &str, v: &Option<String>| v.as_ref().map(|v| Change::Set(name.into(), v.clone().into()));
    changes.extend(facts.paid_at.map(|t| value(&t)).transpose()?.map(|v| Change::Set("paid_at".into(), v)));
    changes.extend(set("provider_status", &facts.provider_status));
    changes.extend(set("missing", &facts.missing));
    changes.extend(set("received", &facts.received));
    changes.extend(set("overpaid", &facts.overpaid));
    changes.extend(set("subscription_id", &facts.subscription_id));
    changes.extend(set("refunded_by", &facts.refunded_by));
    changes.extend(set("refund_method", &facts.refund_method));
    changes.extend(set("refund_id", &facts.refund_id));
    Ok(Write::Update { key: key(order_id), changes, cond: Some(is_status(from)) })
}

/// What `moved` writes, applied to a copy of the order in memory (the
/// status and the facts; `updated_at` stays, it is the commit's clock), for
/// those who pass the moved order on without reading it again.
pub fn apply_moved(order: &mut OrderRecord, to: OrderStatus, facts: &Facts) {
    order.status = to;
    if to == OrderStatus::Paid {
        order.missing = None;
    }
    order.paid_at = facts.paid_at.or(order.paid_at);
    let keep = |new: &Option<String>, old: &mut Option<String>| {
        if new.is_some() {
            old.clone_from(new);
        }
    };
    keep(&facts.provider_status, &mut order.provider_status);
    keep(&facts.missing, &mut order.missing);
    keep(&facts.received, &mut order.received);
    keep(&facts.overpaid, &mut order.overpaid);
    keep(&facts.subscription_id, &mut order.subscription_id);
    keep(&facts.refunded_by, &mut order.refunded_by);
    keep(&facts.refund_method, &mut order.refund_method);
    keep(&facts.refund_id, &mut order.refund_id);
}

/// Guard: the order is still in the status we read.
pub fn is_status(status: OrderStatus) -> Cond {
    Cond::Eq("status".into(), Value::from(status.as_str()))
}

/// Records the invoice the provider made for the order; the payment as it
/// is now.
pub async fn record_invoice(
    ctx: &Ctx,
    order_id: &str,
    invoice: &crate::ports::Invoice,
) -> Result<PaymentRecord, ServiceError> {
    let item = ctx.records.update(&payment_key(order_id), invoice_changes(invoice)?, Some(Cond::Exists)).await?;
    Ok(from_item(item)?)
}

fn invoice_changes(invoice: &crate::ports::Invoice) -> Result<Vec<Change>, ServiceError> {
    Ok(vec![
        Change::Set("payment_id".into(), invoice.payment_id.clone().into()),
        Change::Set("pay_address".into(), value(&invoice.pay_address)?),
        Change::Set("pay_amount".into(), value(&invoice.pay_amount)?),
        Change::Set("pay_currency".into(), value(&invoice.pay_currency)?),
        Change::Set("checkout_url".into(), value(&invoice.checkout_url)?),
    ])
}

/// Staff took the purchase out of credits (it earns nothing from now on).
pub fn credits_deactivated(order_id: &str, actor: &str) -> Write {
    let changes = vec![Change::Set("credits_deactivated_by".into(), actor.into())];
    Write::Update { key: key(order_id), changes, cond: Some(Cond::Exists) }
}

/// Credits paid it all: the payment's id says so.
pub fn paid_by_credits(order_id: &str) -> Write {
    let changes = vec![Change::Set("payment_id".into(), format!("credits:{order_id}").into())];
    Write::Update { key: payment_key(order_id), changes, cond: Some(Cond::Exists) }
}

#[cfg(test)]
mod tests;
