//! `GET /admin/analytics?window_days=30`: sales, revenue, velocity, days of
//! cover, files returning and reorder points, per product and overall.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::super::AppState;
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::services::staff::analytics::{self, Analytics};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Days back from now (1 to 365, default 30).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 365)]
    pub window_days: Option<String>,
}

#[utoipa::path(get, path = "/admin/analytics", tag = "staff", operation_id = "stock_analytics", security(("staff_jwt" = [])),
    description = "Sales (orders that received files), revenue (cash, minor units per currency), files sold per \
        day, `days_of_cover` (available / velocity, null when nothing sold), files returning as subscriptions \
        end within the window, and the reorder point (velocity x lead time + safety stock), per product and \
        overall, with a series per day. Reads every ledger entry of the window, one order per sale and the \
        subscriptions ending in it (`reads` counts them).",
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "The figures", body = Analytics),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    ))]
pub async fn analytics(
    State(s): State<AppState>,
    query: Result<Query<AnalyticsQuery>, QueryRejection>,
) -> Result<Json<Analytics>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    let days = match q.window_days.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 30,
        Some(d) => d.parse::<u32>().map_err(|_| ApiError::bad_request("window_days: a whole number from 1 to 365"))?,
    };
    Ok(Json(analytics::compute(&s.ctx, days).await?))
}
