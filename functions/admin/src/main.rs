//! Lambda (HTTP API): the staff API (each route checks the JWT's role), the
//! staff console page, and buyers' reports of bad files (they move stock,
//! which only this function's role may).

use axum::Router;
use lambda_http::Error;
use shared::http::{AppState, admin_routes, console_routes, replacement_routes};
use shared::lambda;

/// Secrets this function must have (infra/README.md); the rest are random.
/// The API keys serve on-demand expiry (stale payments, Stripe sessions).
const NEEDS: &[&str] =
    &["STOCKROOM_JWT_SECRET", "STOCKROOM_CUSTOMER_JWT_SECRET", "NOWPAYMENTS_API_KEY", "STRIPE_SECRET_KEY"];

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // Config, AWS clients and the gateway: once per cold start.
    let state = lambda::app_state(NEEDS).await?;
    // The first admin (STOCKROOM_ADMIN_EMAIL), once; later cold starts find it.
    shared::services::accounts::seed_configured(&state.ctx).await?;
    lambda_http::run(app(state)).await
}

fn app(state: AppState) -> Router {
    lambda::http_router(admin_routes(state.clone()).merge(console_routes()).merge(replacement_routes()), state)
}

#[cfg(test)]
mod tests;
