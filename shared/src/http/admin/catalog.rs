//! `GET /admin/products` (every product, retired ones too) and
//! `PUT /admin/products/{id}` (add or change one; admin).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::super::AppState;
use super::super::auth::Staff;
use super::super::body::RawBody;
use super::super::error::ApiError;
use super::super::openapi::responses::*;
use crate::domain::Product;
use crate::services::catalog;

#[utoipa::path(get, path = "/admin/products", tag = "staff", operation_id = "staff_products", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Every product, retired ones included", body = [Product]),
        (status = 500, response = Internal),
    ))]
pub async fn list(State(s): State<AppState>) -> Result<Json<Vec<Product>>, ApiError> {
    Ok(Json(catalog::list(&s.ctx).await?))
}

#[utoipa::path(put, path = "/admin/products/{id}", tag = "staff", operation_id = "put_product", security(("staff_jwt" = [])),
    description = "Adds the product (201) or replaces it (200), checked as a whole: a price that is not \
        positive, an unknown currency, no files, a zero interval or validity, or a change of `kind` is 400 and \
        changes nothing. New checkouts use it; open orders keep the price they were made with. `retired: true` \
        stops sales (not listed in GET /products; renewals only if `renewable`). Every change is recorded as a \
        `catalog.product_changed` event with who made it and the product before and after.",
    params(("id" = String, Path, description = "Product id (lower-case letters, digits, '-')")),
    request_body(content = Product, description = "The whole product; `id` may be left out (the path names it)"),
    responses(
        (status = 200, description = "Changed", body = Product),
        (status = 201, description = "Added", body = Product),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn put(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let obj = v.as_object_mut().ok_or_else(|| ApiError::bad_request("body: a JSON object is expected"))?;
    match obj.get("id") {
        None => {
            obj.insert("id".into(), id.clone().into());
        }
        Some(given) if given.as_str() == Some(id.as_str()) => {}
        Some(_) => return Err(ApiError::bad_request("id: the body names another product than the path")),
    }
    let product: Product = serde_json::from_value(v).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    let saved = catalog::save(&s.ctx, product, &staff.actor()).await?;
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(saved.product)).into_response())
}
