//! `GET /admin/events`: the event log (admin), filtered and paged.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::super::AppState;
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::services::events::log::{self, EventsPage, LogQuery, RawQuery};

#[utoipa::path(get, path = "/admin/events", tag = "staff", operation_id = "event_log", security(("staff_jwt" = [])),
    params(RawQuery),
    responses(
        (status = 200, description = "A page of events: oldest first from `since`, else newest first", body = EventsPage),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    ))]
pub async fn events(
    State(s): State<AppState>,
    query: Result<Query<RawQuery>, QueryRejection>,
) -> Result<Json<EventsPage>, ApiError> {
    let Query(raw) = query.map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    Ok(Json(log::read(&s.ctx, &LogQuery::parse(raw)?).await?))
}
