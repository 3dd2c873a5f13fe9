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
use crate::services::seats;
use crate::services::usage::{self, ReportRequest, UsageError};

/// `POST /subscriptions/{id}/usage` (service token). 200 with the receipt,
/// also for a replay of the same key and body.
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
pub async fn history(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(usage::history(&s.ctx, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveSeat {
    pub file: String,
}

/// `POST /admin/subscriptions/{id}/seats/remove {file}`.
pub async fn remove_seat(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body = parse_json::<RemoveSeat>(&raw)?;
    let outcome = seats::remove(&s.ctx, &id, &body.file, &format!("staff:{}", staff.sub)).await?;
    Ok(Json(outcome).into_response())
}
