//! `GET /admin/orders` (search) and `GET /admin/orders/{id}` (one order
//! with what was recorded about it and what the caller may do to it).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use serde::Serialize;

use super::super::AppState;
use super::super::auth::{STAFF_ROUTES, Staff};
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::services::model::OrderRecord;
use crate::services::staff::detail::{self, Action};
use crate::services::staff::orders::{self, OrderQuery, RawQuery};

/// A page of orders, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrdersPage {
    /// Stored orders (`order_id`, `email`, `status`, `product_id`, `price`,
    /// `created_at`, `updated_at`, ...).
    #[schema(value_type = Vec<Object>)]
    pub orders: Vec<OrderRecord>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/admin/orders", tag = "staff", operation_id = "search_orders", security(("staff_jwt" = [])),
    description = "Orders newest first: by `status` (dated by when they entered it), by `email`, or all (dated \
        by creation); `since`/`until` bound that date. Each page reads at most `limit + 2` index entries; with \
        `email` and `status` a page may hold fewer than `limit` and still have a `next_cursor`.",
    params(RawQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrdersPage),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    ))]
pub async fn list(
    State(s): State<AppState>,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> Result<Json<OrdersPage>, ApiError> {
    let Query(raw) = query.map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    let page = orders::list(&s.ctx, &OrderQuery::parse(raw)?).await?;
    Ok(Json(OrdersPage { orders: page.orders, next_cursor: page.next_cursor }))
}

/// One order and what was recorded about it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderDetailView {
    #[schema(value_type = Object)]
    pub order: OrderRecord,
    /// The invoice (provider, payment id, address or checkout URL).
    #[schema(value_type = Option<Object>)]
    pub payment: Option<crate::services::model::PaymentRecord>,
    /// Stock held while unpaid.
    #[schema(value_type = Option<Object>)]
    pub hold: Option<crate::services::model::HoldRecord>,
    /// Payment provider events applied to it (`effect` says what each did).
    #[schema(value_type = Vec<Object>)]
    pub receipts: Vec<crate::services::store::receipts::EventRecord>,
    #[schema(value_type = Option<Object>)]
    pub subscription: Option<crate::services::model::SubscriptionRecord>,
    /// Stock ledger entries referencing it, newest first.
    #[schema(value_type = Vec<Object>)]
    pub ledger: Vec<crate::services::model::LedgerEntry>,
    /// The buyer's credit entries referencing it.
    #[schema(value_type = Vec<Object>)]
    pub credits: Vec<crate::services::store::credits::EntryRecord>,
    /// What the order's state allows and the caller's role may do.
    pub actions: Vec<Action>,
}

#[utoipa::path(get, path = "/admin/orders/{id}", tag = "staff", operation_id = "staff_order", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order, its payment, receipts, subscription, ledger entries, credits, \
            and the actions open to the caller", body = OrderDetailView),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn one(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<OrderDetailView>, ApiError> {
    let id = crate::http::ids::order(&id)?;
    let d = detail::read(&s.ctx, id.as_str()).await?;
    let allowed = |a: &Action| {
        STAFF_ROUTES.iter().any(|(m, p, roles)| *m == a.method && *p == a.route && roles.contains(&staff.role))
    };
    Ok(Json(OrderDetailView {
        order: d.order,
        payment: d.payment,
        hold: d.hold,
        receipts: d.receipts,
        subscription: d.subscription,
        ledger: d.ledger,
        credits: d.credits,
        actions: d.actions.into_iter().filter(allowed).collect(),
    }))
}
