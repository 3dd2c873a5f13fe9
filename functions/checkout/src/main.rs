//! Lambda (HTTP API): catalog, checkout, order status, the bot's entitlement,
//! the buyer's pages, buyers' sign-in and `/me`.

use anyhow::Context;
use axum::Router;
use lambda_http::Error;
use shared::http::{AppState, page_routes, storefront_routes};
use shared::lambda;
use shared::services::catalog;

/// Secrets this function must have (infra/README.md); the rest are random.
const NEEDS: &[&str] = &[
    "STOCKROOM_SERVICE_TOKEN",
    "STOCKROOM_ORDER_TOKEN_KEY",
    "STOCKROOM_CUSTOMER_JWT_SECRET",
    "NOWPAYMENTS_API_KEY",
    "STRIPE_SECRET_KEY",
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // Config, AWS clients and the gateway: once per cold start.
    let state = lambda::app_state(NEEDS).await?;
    lambda_http::run(app(state).await?).await
}

/// Seeds the catalog first (a single read once seeded), so the first
/// `GET /products` of a new stack does not find it missing.
async fn app(state: AppState) -> anyhow::Result<Router> {
    catalog::seed(&state.ctx).await.context("seeding the catalog")?;
    Ok(lambda::http_router(storefront_routes().merge(page_routes()), state))
}

#[cfg(test)]
mod tests;
