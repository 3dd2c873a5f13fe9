//! Lambda (HTTP API): NOWPayments and Stripe webhooks. Signatures are checked
//! over the body's exact bytes (lambda_http decodes API Gateway's base64).

use axum::Router;
use axum::routing::post;
use lambda_http::Error;
use shared::http::{AppState, sandbox, webhook_routes};
use shared::lambda;

/// Secrets this function must have (infra/README.md); the rest are random.
/// The API keys read a doubtful payment back from its provider.
const NEEDS: &[&str] = &["NOWPAYMENTS_IPN_SECRET", "STRIPE_WEBHOOK_SECRET", "NOWPAYMENTS_API_KEY", "STRIPE_SECRET_KEY"];

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    // Config, AWS clients and the gateway: once per cold start.
    let state = lambda::app_state(NEEDS).await?;
    lambda_http::run(app(state)).await
}

/// With the sandbox on (`cargo lambda watch`, never with live payments)
/// `POST /sandbox/pay/{order_id}` posts a signed webhook to these routes.
fn app(state: AppState) -> Router {
    let mut routes = webhook_routes();
    if state.sandbox.is_some() {
        routes = routes.route("/sandbox/pay/{order_id}", post(sandbox::pay));
    }
    lambda::http_router(routes, state)
}

#[cfg(test)]
mod tests;
