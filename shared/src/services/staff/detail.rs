//! `GET /admin/orders/{id}`: one order with what was recorded about it and
//! the actions its state allows. Cost: the order's partition (one query),
//! its receipts (one index query), its subscription (one read), the
//! buyer's credit entries (one partition), the order's stock ledger
//! lines (a marker read and one index query; see `ledger_lines` for shops
//! older than the index), and for a refundable order that created a live
//! subscription, the buyer's orders since it began (`lifecycle::later`).

use serde::Serialize;

use super::super::ledger::{self, LedgerQuery, MAX_LIMIT};
use super::super::lifecycle::later;
use super::super::model::{HoldRecord, LedgerEntry, OrderRecord, PaymentRecord, SubscriptionRecord};
use super::super::store::credits::{self, EntryRecord};
use super::super::store::receipts::{self, EventRecord};
use super::super::store::{orders, subscriptions};
use super::super::{Ctx, ServiceError};
use crate::domain::OrderStatus;

pub struct OrderDetail {
    pub order: OrderRecord,
    pub payment: Option<PaymentRecord>,
    pub hold: Option<HoldRecord>,
    pub receipts: Vec<EventRecord>,
    pub subscription: Option<SubscriptionRecord>,
    pub ledger: Vec<LedgerEntry>,
    pub credits: Vec<EntryRecord>,
    pub actions: Vec<Action>,
}

/// A staff route that can act on this order now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Action {
    /// `refund`, `deactivate_credits`, `revoke` or `delete_subscription`.
    pub name: &'static str,
    pub method: &'static str,
    /// The route as the role table names it (`/admin/orders/{id}/refund`).
    pub route: &'static str,
    /// The path to call.
    pub path: String,
}

pub async fn read(ctx: &Ctx, order_id: &str) -> Result<OrderDetail, ServiceError> {
    let b = orders::load(ctx, order_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no order {order_id}")))?;
    let order = b.order;
    let receipts = receipts::for_order(ctx, order_id).read_all().await?;
    let sub_id = order.subscription_id.clone().or_else(|| order.for_subscription.clone());
    let subscription = match &sub_id {
        Some(id) => subscriptions::get(ctx, id).await?,
        None => None,
    };
    let ledger = ledger_lines(ctx, &order).await?;
    let credits: Vec<EntryRecord> = credits::entries(ctx, &order.user_id)
        .read_all()
        .await?
        .into_iter()
        .filter(|e| e.reference == order_id)
        .collect();
    let mut actions = actions(&order, subscription.as_ref());
    // The refund would be refused while later orders add to what it ends.
    if actions.iter().any(|a| a.name == "refund") && later::blocking(ctx, &order).await?.is_some() {
        actions.retain(|a| a.name != "refund");
    }
    Ok(OrderDetail { order, payment: b.payment, hold: b.hold, receipts, subscription, ledger, credits, actions })
}

/// The stock ledger lines that reference the order, newest first, at most
/// `MAX_LIMIT`. `ledger::read` takes them from the index by reference once
/// every line is in it (one page); until reconcile has indexed the lines of
/// a shop that began before the index, it walks the ledger, a read budget
/// per page: go on to the order's creation.
async fn ledger_lines(ctx: &Ctx, order: &OrderRecord) -> Result<Vec<LedgerEntry>, ServiceError> {
    let mut q = LedgerQuery {
        reference: Some(order.order_id.clone()),
        since: Some(order.created_at),
        limit: MAX_LIMIT,
        ..LedgerQuery::default()
    };
    let mut lines = Vec::new();
    while lines.len() < MAX_LIMIT {
        let page = ledger::read(ctx, &q).await?;
        lines.extend(page.entries);
        let Some(next) = page.next_cursor else { break };
        q.before = Some(ledger::decode_cursor(&next)?);
    }
    lines.truncate(MAX_LIMIT);
    Ok(lines)
}

/// What the order's state allows (the refund and deactivation use cases
/// make the same checks; this only spares staff a button that would 409).
pub fn actions(order: &OrderRecord, sub: Option<&SubscriptionRecord>) -> Vec<Action> {
    let id = &order.order_id;
    let mut out = Vec::new();
    let s = order.status;
    let received =
        s.is_paid() || s == OrderStatus::PartiallyPaid || order.received.is_some() || order.paid_at.is_some();
    if s.can_move_to(OrderStatus::Refunded) && received {
        out.push(Action {
            name: "refund",
            method: "POST",
            route: "/admin/orders/{id}/refund",
            path: format!("/admin/orders/{id}/refund"),
        });
    }
    if s.is_paid() && order.credits_deactivated_by.is_none() {
        out.push(Action {
            name: "deactivate_credits",
            method: "POST",
            route: "/admin/orders/{id}/deactivate",
            path: format!("/admin/orders/{id}/deactivate"),
        });
    }
    if let Some(sub) = sub.filter(|s| s.ended.is_none()) {
        let sid = &sub.subscription_id;
        out.push(Action {
            name: "revoke",
            method: "POST",
            route: "/admin/subscriptions/{id}/revoke",
            path: format!("/admin/subscriptions/{sid}/revoke"),
        });
        out.push(Action {
            name: "delete_subscription",
            method: "DELETE",
            route: "/admin/subscriptions/{id}",
            path: format!("/admin/subscriptions/{sid}"),
        });
    }
    out
}
