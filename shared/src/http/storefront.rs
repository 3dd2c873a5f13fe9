//! Storefront routes: catalog, checkout, order status; and the bot engine's
//! entitlement check.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::auth::{bearer_token, service_only};
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use super::{AppState, ClientIp};
use crate::domain::{IdempotencyKey, Product};
use crate::services::checkout::{self, CheckoutBody, Outcome};
use crate::services::{catalog, orders, stock, subscriptions};

/// A catalog entry as the storefront sees it: the product and whether
/// enough stock is free to buy it now.
#[derive(Serialize)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    pub in_stock: bool,
}

pub async fn products(State(s): State<AppState>) -> Result<Json<Vec<ProductView>>, ApiError> {
    let available = stock::read_counts(&s.ctx).await?.counts.available();
    let list = catalog::list(&s.ctx).await?;
    let view = |product: Product| ProductView { in_stock: available >= i64::from(product.files), product };
    Ok(Json(list.into_iter().map(view).collect()))
}

pub async fn checkout(
    State(s): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let text = v.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
            Some(IdempotencyKey::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))?)
        }
        None => None,
    };
    let mut req = parse_json::<CheckoutBody>(&raw)?.parse()?;
    req.client_ip = ip.map(|Extension(ClientIp(ip))| ip);
    Ok(match checkout::checkout(&s.ctx, req, key).await? {
        Outcome::Created(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Outcome::Replayed(r) => (StatusCode::OK, Json(r)).into_response(),
    })
}

pub async fn order(
    State(s): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let view = orders::view(&s.ctx, &order_id, bearer_token(&headers)).await?;
    Ok(Json(view).into_response())
}

pub async fn entitlement(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    service_only(&s, &headers)?;
    let view = subscriptions::entitlement(&s.ctx, &id).await?;
    Ok(Json(view).into_response())
}
