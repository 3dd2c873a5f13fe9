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
use crate::services::adjust::{self, AdjustRequest};

pub async fn adjust(
    State(s): State<AppState>,
    Extension(staff): Extension<Staff>,
    RawBody(body): RawBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req: AdjustRequest = parse_json(&body)?;
    let results = adjust::adjust(&s.ctx, &req, &format!("staff:{}", staff.sub)).await?;
    Ok(Json(serde_json::json!({"action": req.action, "results": results})))
}
