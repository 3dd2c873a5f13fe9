//! Merchant webhook endpoints (admin): create, list, delete, rotate, the
//! deliveries log, a test event, and resending an event.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::super::AppState;
use super::super::auth::Staff;
use super::super::body::{RawBody, parse_json};
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::services::ServiceError;
use crate::services::hooks::endpoints::{self, CreatedEndpoint, DeliveryView, EndpointView, NewEndpoint, Resent};

const MAX_PAGE: usize = 100;

/// Endpoint ids are ULIDs; anything else is the same 404 as an unknown id.
fn endpoint_id(raw: &str) -> Result<&str, ServiceError> {
    if raw.len() == 26 && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw)
    } else {
        Err(ServiceError::NotFound(format!("no webhook endpoint {raw}")))
    }
}

/// Event ids: letters, digits, `_` and `-` (they are sent as `webhook-id`,
/// where the specification forbids `.`).
fn event_id(raw: &str) -> Result<&str, ServiceError> {
    if (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        Ok(raw)
    } else {
        Err(ServiceError::NotFound(format!("no event {raw}")))
    }
}

#[utoipa::path(post, path = "/admin/webhooks", tag = "staff", operation_id = "create_webhook", security(("staff_jwt" = [])),
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "Created; `secret` is shown only in this answer", body = CreatedEndpoint),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn create(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<CreatedEndpoint>), ApiError> {
    let req: NewEndpoint = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(endpoints::create(&s.ctx, &req, &staff.actor()).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointView>,
}

#[utoipa::path(get, path = "/admin/webhooks", tag = "staff", operation_id = "list_webhooks", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Every endpoint, without secrets", body = EndpointList),
        (status = 500, response = Internal),
    ))]
pub async fn list(State(s): State<AppState>) -> Result<Json<EndpointList>, ApiError> {
    Ok(Json(EndpointList { endpoints: endpoints::list(&s.ctx).await? }))
}

#[utoipa::path(delete, path = "/admin/webhooks/{id}", tag = "staff", operation_id = "delete_webhook", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted; its pending deliveries are dropped"),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&s.ctx, endpoint_id(&id)?, &staff.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Rotated {
    /// The new secret, shown only here; the old one keeps signing beside it for 24 h.
    pub secret: String,
}

#[utoipa::path(post, path = "/admin/webhooks/{id}/rotate", tag = "staff", operation_id = "rotate_webhook_secret", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "A new secret; deliveries carry a signature by each for 24 h", body = Rotated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn rotate(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<Rotated>, ApiError> {
    Ok(Json(Rotated { secret: endpoints::rotate(&s.ctx, endpoint_id(&id)?, &staff.actor()).await? }))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Deliveries per page (default and most: 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// A `next_cursor` from an earlier page.
    pub cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/admin/webhooks/{id}/deliveries", tag = "staff", operation_id = "webhook_deliveries", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Endpoint id"), PageQuery),
    responses(
        (status = 200, description = "The endpoint's deliveries, newest event first: attempts, statuses, next attempt",
            body = DeliveryPage),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn deliveries(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
    let limit = match q.limit.as_deref() {
        None => MAX_PAGE,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => return Err(ApiError::bad_request(format!("limit must be 1 to {MAX_PAGE}"))),
        },
    };
    let (deliveries, next_cursor) = endpoints::deliveries(&s.ctx, endpoint_id(&id)?, limit, q.cursor).await?;
    Ok(Json(DeliveryPage { deliveries, next_cursor }))
}

#[utoipa::path(post, path = "/admin/webhooks/{id}/test", tag = "staff", operation_id = "test_webhook", security(("staff_jwt" = [])),
    description = "Sends a `webhook.test` event to this endpoint now (5 s at most) and answers with the delivery \
        as it stands after that attempt; a failed one is retried on the usual schedule.",
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The test delivery after its first attempt", body = DeliveryView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn test(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(endpoints::test(&s.ctx, endpoint_id(&id)?, &staff.actor()).await?))
}

#[utoipa::path(post, path = "/admin/events/{id}/resend", tag = "staff", operation_id = "resend_event", security(("staff_jwt" = [])),
    description = "Delivers the event again, with the same `webhook-id`, to every endpoint that wants its type \
        and to every one that had it: a new series of attempts.",
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 202, description = "Queued for delivery", body = Resent),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn resend(State(s): State<AppState>, Path(id): Path<String>) -> Result<(StatusCode, Json<Resent>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(endpoints::resend(&s.ctx, event_id(&id)?).await?)))
}
