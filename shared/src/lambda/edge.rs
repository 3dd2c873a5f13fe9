//! The HTTP functions' edge: a function's routes with the shared fallbacks,
//! and the caller's address as API Gateway saw it.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::http::{AppState, ClientIp, finish};

/// The router `lambda_http::run` serves. lambda_http has already decoded an
/// API Gateway base64 body into its bytes, so `RawBody` sees exactly what
/// the caller sent (webhook signatures are checked over those bytes).
pub fn http_router(routes: Router<AppState>, state: AppState) -> Router {
    finish(routes, state).layer(middleware::from_fn(client_ip_from_gateway))
}

/// Inserts `ClientIp` from API Gateway's request context (the peer of the TCP
/// connection it accepted), never from a header a client can set.
pub async fn client_ip_from_gateway(mut req: Request, next: Next) -> Response {
    if let Some(ip) = source_ip(&req) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

fn source_ip(req: &Request) -> Option<String> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        _ => None,
    }
    .filter(|ip| !ip.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::extract::Extension;
    use axum::routing::get;
    use serde_json::json;
    use tower::ServiceExt;

    use super::*;

    async fn seen_ip(event: serde_json::Value) -> String {
        let app: Router = Router::new()
            .route(
                "/ip",
                get(|ip: Option<Extension<ClientIp>>| async move {
                    ip.map(|Extension(ClientIp(ip))| ip).unwrap_or_default()
                }),
            )
            .layer(middleware::from_fn(client_ip_from_gateway));
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    fn v2_event(source_ip: &str) -> serde_json::Value {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/ip", "rawQueryString": "",
            "headers": {"x-forwarded-for": "198.51.100.99", "x-real-ip": "198.51.100.98"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "domainPrefix": "api", "requestId": "r1", "routeKey": "$default", "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000u64,
                "http": {"method": "GET", "path": "/ip", "protocol": "HTTP/1.1",
                         "sourceIp": source_ip, "userAgent": "test"}
            },
            "isBase64Encoded": false
        })
    }

    #[tokio::test]
    async fn the_address_comes_from_the_request_context_not_headers() {
        assert_eq!(seen_ip(v2_event("203.0.113.7")).await, "203.0.113.7");
    }

    #[tokio::test]
    async fn no_source_ip_means_no_client_ip() {
        assert_eq!(seen_ip(v2_event("")).await, "");
    }
}
