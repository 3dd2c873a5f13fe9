//! Usage reports from the bot engine; usage history and seat removal for staff.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::{Staff, service_only};
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use super::openapi::responses::*;
use crate::services::seats::{self, RemoveOutcome};
use crate::services::usage::{self, ReportRequest, UsageError, UsageHistory, UsageReceipt};

/// `POST /subscriptions/{id}/usage` (service token). 200 with the receipt,
/// also for a replay of the same key and body.
#[utoipa::path(post, path = "/subscriptions/{id}/usage", tag = "bot", operation_id = "report_usage",
    description = "Counts usage of a live (active or grace) subscription. A hard quota spent is said in the \
        receipt; the report still counts.",
    params(("id" = String, Path, description = "Subscription id")),
    security(("service_token" = [])),
    request_body = ReportRequest,
    responses(
        (status = 200, description = "Counted (or the same key and body again: the same receipt)", body = UsageReceipt),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Unprocessable),
        (status = 500, response = Internal),
    ))]
pub async fn report(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    service_only(&s, &headers)?;
    let req = parse_json::<ReportRequest>(&raw)?;
    match usage::record(&s.ctx, &id, req).await {
        Ok(receipt) => Ok(Json(receipt).into_response()),
        Err(UsageError::Ended(id, state)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "subscription-ended",
            "The subscription has ended",
            format!(
                "subscription {id} is {}; usage is not accepted",
                serde_json::json!(state).as_str().unwrap_or("ended")
            ),
        )),
        Err(UsageError::Service(e)) => Err(e.into()),
    }
}

/// `GET /admin/subscriptions/{id}/usage`: current and past periods.
#[utoipa::path(get, path = "/admin/subscriptions/{id}/usage", tag = "staff", operation_id = "usage_history", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Seats now, the current period and past ones, newest first", body = UsageHistory),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn history(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(usage::history(&s.ctx, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveSeat {
    /// A file (seat) of the subscription.
    #[schema(value_type = crate::domain::FileName)]
    pub file: String,
}

/// `POST /admin/subscriptions/{id}/seats/remove {file}`.
#[utoipa::path(post, path = "/admin/subscriptions/{id}/seats/remove", tag = "staff", security(("staff_jwt" = [])),
    description = "Takes one seat (file) from a per-seat subscription back to stock (banned/ if staff had \
        flagged it). Refused (400) for a plan not priced per seat or the last seat; 409 once the subscription ended.",
    params(("id" = String, Path, description = "Subscription id")),
    request_body = RemoveSeat,
    responses(
        (status = 200, description = "The seat is removed (or was, by an earlier request)", body = RemoveOutcome),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn remove_seat(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body = parse_json::<RemoveSeat>(&raw)?;
    let outcome = seats::remove(&s.ctx, &id, &body.file, &staff.actor()).await?;
    Ok(Json(outcome).into_response())
}
