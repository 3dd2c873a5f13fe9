//! `POST /admin/stock/adjust {action, files, reason}`: ban, freeze, unfreeze
//! or write off files. 200 with one result per file, in order
//! (`{action, results: [{file, outcome, replacement?, detail?}]}`); an
//! unknown file or one in the wrong place is reported in its result, not as
//! an error, so one bad name does not hide what happened to the others. A
//! bad action, no files, a bad file name or no reason -> 400, nothing done.

use axum::Json;
use axum::extract::{Extension, State};

use super::super::AppState;
use super::super::auth::Staff;
use super::super::body::{RawBody, parse_json};
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::services::adjust::{self, Action, AdjustRequest, FileResult};

/// What was done to each file, in the order named.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AdjustResponse {
    pub action: Action,
    pub results: Vec<FileResult>,
}

#[utoipa::path(post, path = "/admin/stock/adjust", tag = "staff", operation_id = "adjust_stock", security(("staff_jwt" = [])),
    request_body = AdjustRequest,
    responses(
        (status = 200, description = "One result per file, in order; an unknown file or one in the wrong place \
            is reported in its result", body = AdjustResponse),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn adjust(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(body): RawBody,
) -> Result<Json<AdjustResponse>, ApiError> {
    let req: AdjustRequest = parse_json(&body)?;
    let results = adjust::adjust(&s.ctx, &req, &staff.actor()).await?;
    Ok(Json(AdjustResponse { action: req.action, results }))
}
