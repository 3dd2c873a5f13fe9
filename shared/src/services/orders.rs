//! The buyer's view of an order (moves are in `lifecycle`, storage in
//! `store::orders`).

use serde::Serialize;

use super::items::from_item;
use super::model::SubscriptionRecord;
use super::store::orders;
use super::{Ctx, ServiceError, keys};
use crate::domain::{Email, Money, OrderId, OrderStatus, SubscriptionState, subscription_state};

pub use super::store::orders::{OrderBundle, load};

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

/// What shows an order is the caller's.
pub enum Proof<'a> {
    /// The order's own token (a guest).
    OrderToken(&'a str),
    /// A signed-in buyer: any of their own orders.
    Buyer(&'a Email),
}

/// `GET /orders/{id}`: the buyer's view, behind the order token or the
/// buyer's session. A wrong token, someone else's order and an unknown
/// order look the same (404).
pub async fn view(ctx: &Ctx, id: &OrderId, proof: Option<Proof<'_>>) -> Result<OrderView, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no order {id} for this token"));
    let buyer = match proof.ok_or_else(not_found)? {
        Proof::OrderToken(token) if ctx.settings.order_tokens().verify(id.as_str(), token) => None,
        Proof::OrderToken(_) => return Err(not_found()),
        Proof::Buyer(email) => Some(email),
    };
    let order = orders::get(ctx, id.as_str()).await?.ok_or_else(not_found)?;
    if buyer.is_some_and(|b| b.as_str() != order.email) {
        return Err(not_found());
    }
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
