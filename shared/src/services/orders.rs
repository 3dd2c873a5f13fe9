//! Reading orders and moving them between states.

use serde::Serialize;
use serde_json::Value;

use super::items::{from_item, json};
use super::model::{HoldRecord, IntentRecord, OrderRecord, PaymentRecord, SubscriptionRecord};
use super::{Ctx, ServiceError, keys};
use crate::domain::{Money, OrderId, OrderStatus, SubscriptionState, Timestamp, subscription_state};
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Cond, Index, Query, SkRange};

/// An order with the records kept beside it (one query reads them all).
#[derive(Clone, Debug)]
pub struct OrderBundle {
    pub order: OrderRecord,
    pub payment: Option<PaymentRecord>,
    pub hold: Option<HoldRecord>,
    pub intent: Option<IntentRecord>,
}

pub async fn load(ctx: &Ctx, order_id: &str) -> Result<Option<OrderBundle>, ServiceError> {
    let page = ctx.records.query(Query::new(Index::Table, keys::order_pk(order_id)).sk(SkRange::All).limit(10)).await?;
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

/// The changes that move an order to `to`, keeping its status index current.
pub fn status_changes(order_id: &str, to: OrderStatus, now: Timestamp) -> Vec<Change> {
    vec![
        Change::Set("status".into(), json(&to)),
        Change::Set("updated_at".into(), json(&now)),
        Change::Set(GSI1PK.into(), keys::orders_by_status(to).into()),
        Change::Set(GSI1SK.into(), keys::sort_at(now, order_id).into()),
    ]
}

/// Guard: the order is still in the status we read.
pub fn is_status(status: OrderStatus) -> Cond {
    Cond::Eq("status".into(), json(&status))
}

pub fn order_index(order: &OrderRecord) -> (String, String) {
    (keys::orders_by_status(order.status), keys::sort_at(order.updated_at, &order.order_id))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub state: SubscriptionState,
    #[schema(format = DateTime)]
    pub valid_until: String,
    pub interval_seconds: u32,
    pub files: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub status: OrderStatus,
    pub product_id: String,
    pub price: Money,
    #[schema(format = DateTime)]
    pub reserved_until: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// What arrived, when the provider said (also for an order that lapsed
    /// after part of the money came: it can be refunded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// What arrived beyond the price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overpaid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<SubscriptionView>,
}

/// `GET /orders/{id}`: the buyer's view, behind the order token. A wrong
/// token and an unknown order look the same (404).
pub async fn view(ctx: &Ctx, order_id: &str, token: Option<&str>) -> Result<OrderView, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no order {order_id} for this token"));
    let id = OrderId::parse(order_id).map_err(|_| not_found())?;
    let token = token.ok_or_else(not_found)?;
    if !ctx.settings.order_tokens().verify(id.as_str(), token) {
        return Err(not_found());
    }
    let item = ctx.records.get(&keys::order(id.as_str())).await?.ok_or_else(not_found)?;
    let order: OrderRecord = from_item(item)?;
    let subscription = match &order.subscription_id {
        Some(sid) => match ctx.records.get(&keys::subscription(sid)).await? {
            Some(item) => {
                let s: SubscriptionRecord = from_item(item)?;
                Some(SubscriptionView {
                    state: subscription_state(s.valid_until, s.ended, ctx.clock.now()),
                    id: s.subscription_id,
                    valid_until: s.valid_until.rfc3339(),
                    interval_seconds: s.interval_seconds,
                    files: s.files,
                })
            }
            None => None,
        },
        None => None,
    };
    Ok(OrderView {
        order_id: order.order_id,
        status: order.status,
        product_id: order.product_id,
        price: order.price,
        reserved_until: order.reserved_until.rfc3339(),
        missing: order.missing,
        received: order.received,
        overpaid: order.overpaid,
        subscription,
    })
}
