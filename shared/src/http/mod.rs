//! HTTP glue: axum routers over the services. Each route is one call into a
//! service; errors become problem+json in `error`. The same routers serve the
//! local stack (axum) and the Lambda functions (lambda_http).

pub mod admin;
pub mod auth;
pub mod body;
pub mod credits;
pub mod customer;
pub mod error;
mod ids;
pub mod openapi;
pub mod pages;
pub mod sandbox;
pub mod sessions;
pub mod storefront;
pub mod usage;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};

use crate::ports::Clock;
use crate::providers::{NowPaymentsVerifier, StripeVerifier};
use crate::services::Ctx;
use error::ApiError;

/// The caller's address as the edge saw it (API Gateway's source IP, or the
/// socket's peer locally). Never taken from a client-supplied header.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

/// Local stack: the peer address of the TCP connection.
pub async fn client_ip_from_socket(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    req.extensions_mut().insert(ClientIp(peer.ip().to_string()));
    next.run(req).await
}

/// The webhook signature checkers.
pub struct WebhookKeys {
    pub nowpayments: NowPaymentsVerifier,
    pub stripe: StripeVerifier,
    /// Real time (`SystemClock`), not the business clock in `Ctx`: moving
    /// the sandbox clock must not make every signature stale.
    pub signed_at: Arc<dyn Clock>,
}

#[derive(Clone)]
pub struct AppState {
    pub ctx: Arc<Ctx>,
    pub auth: auth::AuthKeys,
    pub webhooks: Arc<WebhookKeys>,
    /// Present only in the local stack with the sandbox on.
    pub sandbox: Option<Arc<sandbox::SandboxKeys>>,
    /// Staff sessions lately found live (this process).
    pub sessions: Arc<sessions::SessionCache>,
}

/// Catalog, checkout, order status, entitlement, buyers' sign-in and
/// page, and the API's OpenAPI document (the checkout function serves it too).
pub fn storefront_routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/products", get(storefront::products))
        .route("/checkout", post(storefront::checkout))
        .route("/orders/{order_id}", get(storefront::order))
        .route("/subscriptions/{id}/entitlement", get(storefront::entitlement))
        .route("/subscriptions/{id}/usage", post(usage::report))
        .route("/auth/link", post(customer::link))
        .route("/auth/session", post(customer::session))
        .route("/me", get(customer::me))
}

/// The buyer's pages and what they load (the checkout function serves them).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/shop", get(pages::shop))
        .route("/account", get(pages::account))
        .route("/assets/{name}", get(pages::asset))
        .route("/qr.svg", get(pages::qr::qr_svg))
}

/// The staff console page (the admin function serves it; its scripts are
/// under `/assets/`). The page itself is no secret: every call it makes
/// carries the staff token and is checked.
pub fn console_routes() -> Router<AppState> {
    Router::new().route("/console", get(pages::console))
}

pub fn webhook_routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/nowpayments", post(webhooks::nowpayments_route))
        .route("/webhooks/stripe", post(webhooks::stripe_route))
}

pub fn admin_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin/stock", get(admin::stock))
        .route("/admin/reconcile", post(admin::reconcile))
        .route("/admin/expire", post(admin::expire))
        .route("/admin/orders/{id}/refund", post(admin::refund))
        .route("/admin/subscriptions/{id}/revoke", post(admin::revoke))
        .route("/admin/subscriptions/{id}", delete(admin::delete_subscription))
        .route("/admin/ledger", get(admin::ledger))
        .route("/admin/events", get(admin::events::events))
        .route("/admin/stock/adjust", post(admin::adjust))
        .route("/admin/subscriptions/{id}/usage", get(usage::history))
        .route("/admin/subscriptions/{id}/seats/remove", post(usage::remove_seat))
        .route("/admin/customers/{email}/credits", get(credits::view))
        .route("/admin/credits/gifts", post(credits::gift))
        .route("/admin/credits/gifts/{id}/deactivate", post(credits::deactivate_gift))
        .route("/admin/orders/{id}/deactivate", post(credits::deactivate_order))
        .route("/admin/credits/post", post(credits::post))
        .route("/admin/webhooks", post(admin::hooks::create).get(admin::hooks::list))
        .route("/admin/webhooks/{id}", delete(admin::hooks::delete))
        .route("/admin/webhooks/{id}/rotate", post(admin::hooks::rotate))
        .route("/admin/webhooks/{id}/deliveries", get(admin::hooks::deliveries))
        .route("/admin/webhooks/{id}/test", post(admin::hooks::test))
        .route("/admin/events/{id}/resend", post(admin::hooks::resend))
        .route("/admin/orders", get(admin::orders::list))
        .route("/admin/orders/{id}", get(admin::orders::one))
        .route("/admin/products", get(admin::catalog::list))
        .route("/admin/products/{id}", put(admin::catalog::put))
        .route("/admin/analytics", get(admin::analytics::analytics))
        .route("/admin/me", get(admin::me::me))
        .route("/admin/staff", post(admin::staff::save).get(admin::staff::list))
        .route("/admin/staff/{email}", delete(admin::staff::delete))
        .route("/admin/staff/me/totp", post(admin::staff::enrol))
        .route("/admin/staff/me/totp/confirm", post(admin::staff::confirm))
        .route("/admin/staff/me/session", delete(admin::staff::sign_out))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::staff_only))
        // Staff sign-in: no token yet. Served with the admin routes, by the
        // function that holds the staff signing secret.
        .route("/auth/staff/link", post(admin::staff::link))
        .route("/auth/staff/session", post(admin::staff::sign_in))
}

/// A buyer's report of a bad file. It moves stock (banned/, a fresh file to
/// assigned/), so the admin function serves it, the one with those rights;
/// the customer session is checked in the handler.
pub fn replacement_routes() -> Router<AppState> {
    Router::new().route("/me/subscriptions/{id}/replacements", post(customer::replace))
}

pub fn sandbox_routes() -> Router<AppState> {
    Router::new().route("/sandbox/pay/{order_id}", post(sandbox::pay)).route("/sandbox/clock", post(sandbox::clock))
}

/// Adds the problem+json fallbacks every surface shares, and `no-store`.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

/// API answers carry sessions, secrets and buyers' data: no cache keeps
/// them. Pages and assets say their own.
async fn no_store(mut resp: axum::response::Response) -> axum::response::Response {
    let no_store = axum::http::HeaderValue::from_static("no-store");
    resp.headers_mut().entry(axum::http::header::CACHE_CONTROL).or_insert(no_store);
    resp
}

/// Everything, for the local stack.
pub fn full_router(state: AppState) -> Router {
    let mut r = storefront_routes()
        .merge(page_routes())
        .merge(console_routes())
        .merge(webhook_routes())
        .merge(admin_routes(state.clone()))
        .merge(replacement_routes());
    if state.sandbox.is_some() {
        r = r.merge(sandbox_routes());
    }
    finish(r, state)
}
