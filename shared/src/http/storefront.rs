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
use super::openapi::responses::*;
use super::{AppState, ClientIp};
use crate::domain::{IdempotencyKey, Product};
use crate::services::checkout::{self, CheckoutBody, CheckoutResponse, Outcome};
use crate::services::entitlement::Entitlement;
use crate::services::orders::{OrderView, Proof};
use crate::services::{catalog, entitlement, orders, stock};

/// A catalog entry as the storefront sees it: the product and whether
/// enough stock is free to buy it now.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    pub in_stock: bool,
}

#[utoipa::path(get, path = "/products", tag = "storefront",
    responses(
        (status = 200, description = "The catalog, each product with whether it can be bought now", body = [ProductView]),
        (status = 500, response = Internal),
    ))]
pub async fn products(State(s): State<AppState>) -> Result<Json<Vec<ProductView>>, ApiError> {
    let available = stock::read_counts(&s.ctx).await?.counts.available();
    let list = catalog::on_sale(&s.ctx).await?;
    let view = |product: Product| ProductView { in_stock: available >= i64::from(product.files), product };
    Ok(Json(list.into_iter().map(view).collect()))
}

/// The checkout's optional header (documentation only; read from `HeaderMap`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CheckoutHeaders {
    /// Repeat a checkout safely: the same key and body give the same order
    /// (200); the same key with another body is refused (422).
    #[param(rename = "Idempotency-Key", required = false, pattern = "^[!-~]{1,255}$")]
    pub idempotency_key: String,
}

#[utoipa::path(post, path = "/checkout", tag = "storefront",
    params(CheckoutHeaders),
    request_body = CheckoutBody,
    security((), ("customer_session" = [])),
    responses(
        (status = 201, description = "Order created; the plan's files are held until `reserved_until`", body = CheckoutResponse),
        (status = 200, description = "The same Idempotency-Key and body again: the same order", body = CheckoutResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooMany),
        (status = 500, response = Internal),
        (status = 502, response = ProviderDown),
    ))]
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
    req.buyer = super::customer::customer(&s, &headers)?;
    Ok(match checkout::checkout(&s.ctx, req, key).await? {
        Outcome::Created(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Outcome::Replayed(r) => (StatusCode::OK, Json(r)).into_response(),
    })
}

#[utoipa::path(get, path = "/orders/{order_id}", tag = "storefront",
    params(("order_id" = String, Path, description = "From the checkout response")),
    security(("order_token" = []), ("customer_session" = [])),
    responses(
        (status = 200, description = "The order, and its subscription once fulfilled", body = OrderView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn order(
    State(s): State<AppState>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A malformed id and a wrong token look the same: 404.
    let id = crate::domain::OrderId::parse(&order_id)
        .map_err(|_| crate::services::ServiceError::NotFound(format!("no order {order_id} for this token")))?;
    // A session is a JWT (dotted); an order token never has a dot.
    let token = bearer_token(&headers);
    let view = match token {
        Some(t) if t.contains('.') => {
            let buyer = super::customer::customer(&s, &headers)?;
            orders::view(&s.ctx, &id, buyer.as_ref().map(Proof::Buyer)).await?
        }
        _ => orders::view(&s.ctx, &id, token.map(Proof::OrderToken)).await?,
    };
    Ok(Json(view).into_response())
}

#[utoipa::path(get, path = "/subscriptions/{id}/entitlement", tag = "bot",
    params(("id" = String, Path, description = "Subscription id")),
    security(("service_token" = [])),
    responses(
        (status = 200, description = "What the bot may do with this subscription now", body = Entitlement),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    ))]
pub async fn entitlement(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    service_only(&s, &headers)?;
    let view = entitlement::entitlement(&s.ctx, &id).await?;
    Ok(Json(view).into_response())
}
