//! Staff routes for loyalty credits (behind `auth::staff_only`): each is one
//! call into `services::credits`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;

use super::AppState;
use super::auth::Staff;
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use super::openapi::responses::*;
use crate::services::credits::{
    self, CreditsView, DeactivateReport, GiftBody, GiftDeactivated, GiftReceipt, PostReport,
};

#[utoipa::path(get, path = "/admin/customers/{email}/credits", tag = "staff", operation_id = "customer_credits", security(("staff_jwt" = [])),
    params(("email" = String, Path, description = "The customer's email")),
    responses(
        (status = 200, description = "Balances and entries (zero and none for an email never seen)", body = CreditsView),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    ))]
pub async fn view(State(s): State<AppState>, Path(email): Path<String>) -> Result<Json<CreditsView>, ApiError> {
    Ok(Json(credits::view(&s.ctx, &email).await?))
}

#[utoipa::path(post, path = "/admin/credits/gifts", tag = "staff", operation_id = "gift_credits", security(("staff_jwt" = [])),
    request_body = GiftBody,
    responses(
        (status = 201, description = "Gift posted: spendable at once", body = GiftReceipt),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn gift(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<(StatusCode, Json<GiftReceipt>), ApiError> {
    let body: GiftBody = parse_json(&raw)?;
    Ok((StatusCode::CREATED, Json(credits::gift(&s.ctx, body, &staff.actor()).await?)))
}

#[utoipa::path(post, path = "/admin/credits/gifts/{id}/deactivate", tag = "staff", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Gift id, from the gift's receipt")),
    responses(
        (status = 200, description = "The gift is reversed (again: unchanged)", body = GiftDeactivated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn deactivate_gift(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<GiftDeactivated>, ApiError> {
    Ok(Json(credits::deactivate_gift(&s.ctx, &id, &staff.actor()).await?))
}

#[utoipa::path(post, path = "/admin/orders/{id}/deactivate", tag = "staff", security(("staff_jwt" = [])),
    description = "The purchase earns no credits: a pending credit is voided (or never written), a posted one reversed.",
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "What happened to the order's credit", body = DeactivateReport),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn deactivate_order(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<DeactivateReport>, ApiError> {
    let id = super::ids::order(&id)?;
    Ok(Json(credits::deactivate_order(&s.ctx, &id, &staff.actor()).await?))
}

/// The credits job, now.
#[utoipa::path(post, path = "/admin/credits/post", tag = "staff", operation_id = "post_credits", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The credits job, run now", body = PostReport),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn post(State(s): State<AppState>, Extension(staff): Extension<Staff>) -> Result<Json<PostReport>, ApiError> {
    Ok(Json(credits::post_due(&s.ctx, &staff.actor()).await?))
}
