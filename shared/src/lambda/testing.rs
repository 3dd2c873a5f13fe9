//! For the function crates' tests: the embedded backend in a directory (no
//! emulator needed), API Gateway events, and routers called the way
//! `lambda_http::run` calls them.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::adapters::embedded::open_embedded;
use crate::adapters::sandbox::SandboxGateway;
use crate::app::{self, Ports};
use crate::config::{Backend, Config, Place};
use crate::http::{AppState, full_router};
use crate::services::{catalog, restock};

/// The local defaults (documented secrets, sandbox payments), embedded.
pub fn config() -> anyhow::Result<Config> {
    let mut cfg = Config::from_lookup(Place::Local, |_| None)?;
    cfg.backend.kind = Backend::Embedded;
    Ok(cfg)
}

/// A function's state on the embedded backend in `dir`, with the sandbox
/// gateway, wired as on Lambda (`app::state`).
pub fn embedded_state(dir: &Path, cfg: &Config) -> anyhow::Result<AppState> {
    let clock = app::clock();
    let e = open_embedded(dir, clock.clone())?;
    let ports = Ports {
        records: Arc::new(e.records),
        files: Arc::new(e.files),
        fulfil_queue: Arc::new(e.fulfil),
        events: Arc::new(e.events),
    };
    let gateway = Arc::new(SandboxGateway { public_url: cfg.server.public_url.clone() });
    Ok(app::state(cfg, ports, gateway, clock))
}

/// Puts files under `unused/` and adopts them, as an upload plus reconcile do.
pub async fn add_stock(state: &AppState, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        state.ctx.files.put(&format!("unused/{name}"), b"session".to_vec(), true).await?;
    }
    restock::adopt_new_files(&state.ctx, "test").await?;
    Ok(())
}

/// A DynamoDB Streams record of `image` (a stored item) as Lambda delivers
/// it to a mapping with the NEW_IMAGE view: DynamoDB JSON, `sequence` its
/// sequence number.
pub fn stream_record(event_name: &str, sequence: &str, image: &crate::ports::Item) -> anyhow::Result<Value> {
    let new_image: serde_dynamo::Item = serde_dynamo::to_item(image.clone())?;
    Ok(json!({
        "eventID": format!("id-{sequence}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_767_225_600,
            "Keys": {"pk": {"S": image.get("pk")}, "sk": {"S": image.get("sk")}},
            "NewImage": new_image,
            "SequenceNumber": sequence,
            "SizeBytes": 200,
            "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/stockroom/stream/2026-01-01T00:00:00.000"
    }))
}

/// An API Gateway event (HTTP API v2, or REST v1) as lambda_http turns it
/// into a request: base64 bodies decoded, request context attached.
pub fn request(event: &Value) -> anyhow::Result<lambda_http::Request> {
    lambda_http::request::from_str(&event.to_string()).context("not an API Gateway event")
}

/// Serves one request; the status and the JSON body (Null when not JSON).
pub async fn call(router: &Router, req: lambda_http::Request) -> anyhow::Result<(StatusCode, Value)> {
    let resp = router.clone().oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Serves one request; the status, headers and the body as text (pages).
pub async fn call_text(
    router: &Router,
    req: lambda_http::Request,
) -> anyhow::Result<(StatusCode, axum::http::HeaderMap, String)> {
    let resp = router.clone().oneshot(req).await?;
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await?;
    Ok((parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned()))
}

/// A bronze order through the local routes' checkout (the catalog seeded
/// first, as the checkout function does); its JSON answer.
pub async fn checkout(state: &AppState, email: &str, provider: &str) -> anyhow::Result<Value> {
    catalog::seed(&state.ctx).await?;
    let body = json!({"email": email, "product_id": "bronze", "provider": provider});
    let (status, order) = local_call(&full_router(state.clone()), Method::POST, "/checkout", body.to_string()).await?;
    if status != StatusCode::CREATED {
        bail!("checkout answered {status}: {order}");
    }
    Ok(order)
}

/// A bronze order paid by card: checkout, then the sandbox's signed Stripe
/// webhook, through the local routes. Its fulfilment message is queued.
pub async fn paid_order(state: &AppState, email: &str) -> anyhow::Result<String> {
    let order = checkout(state, email, "stripe").await?;
    let order_id = order["order_id"].as_str().context("no order_id")?;
    let uri = format!("/sandbox/pay/{order_id}");
    let (status, paid) = local_call(&full_router(state.clone()), Method::POST, &uri, String::new()).await?;
    if status != StatusCode::OK || paid["webhook_status"] != 200 {
        bail!("sandbox payment answered {status}: {paid}");
    }
    Ok(order_id.to_string())
}

async fn local_call(router: &Router, method: Method, uri: &str, body: String) -> anyhow::Result<(StatusCode, Value)> {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let resp = router.clone().oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}
