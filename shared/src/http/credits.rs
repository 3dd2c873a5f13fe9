//! Staff routes for loyalty credits (behind `auth::staff_only`): each is one
//! call into `services::credits`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;

use super::AppState;
use super::auth::Staff;
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use crate::services::credits;

fn actor(staff: &Staff) -> String {
    format!("staff:{}", staff.sub)
}

pub async fn view(
    State(s): State<AppState>,
    Path(email): Path<String>,
) -> Result<Json<credits::CreditsView>, ApiError> {
    Ok(Json(credits::view(&s.ctx, &email).await?))
}

pub async fn gift(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(raw): RawBody,
) -> Result<(StatusCode, Json<credits::GiftReceipt>), ApiError> {
    let body: credits::GiftBody = parse_json(&raw)?;
    Ok((StatusCode::CREATED, Json(credits::gift(&s.ctx, body, &actor(&staff)).await?)))
}

pub async fn deactivate_gift(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<credits::GiftDeactivated>, ApiError> {
    Ok(Json(credits::deactivate_gift(&s.ctx, &id, &actor(&staff)).await?))
}

pub async fn deactivate_order(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<credits::DeactivateReport>, ApiError> {
    Ok(Json(credits::deactivate_order(&s.ctx, &id, &actor(&staff)).await?))
}

/// The credits job, now.
pub async fn post(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Json<credits::PostReport>, ApiError> {
    Ok(Json(credits::post_due(&s.ctx, &actor(&staff)).await?))
}
