//! The pages: `/shop` (storefront), `/account` and the staff `/console`, plain HTML with a
//! little JavaScript and CSS compiled into the binary (no bundler, nothing
//! from other hosts). Every action on them is one call to the JSON API.
//! Served by the local stack and, on AWS, by the checkout function (the
//! console by the admin function; its assets come from `/assets/` too).

pub mod qr;

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use super::openapi::responses::*;

/// Scripts and styles from this origin only, no inline script, no framing.
/// `img-src` allows `data:` for nothing: the QR code is `/qr.svg`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SHOP_HTML: &str = include_str!("assets/shop.html");
const ACCOUNT_HTML: &str = include_str!("assets/account.html");
const CONSOLE_HTML: &str = include_str!("assets/console.html");

/// The files under `/assets/`: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    ("style.css", "text/css; charset=utf-8", include_str!("assets/style.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("assets/common.js")),
    ("shop.js", "text/javascript; charset=utf-8", include_str!("assets/shop.js")),
    ("account.js", "text/javascript; charset=utf-8", include_str!("assets/account.js")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("assets/console.js")),
    ("console-parts.js", "text/javascript; charset=utf-8", include_str!("assets/console-parts.js")),
    ("console-tasks.js", "text/javascript; charset=utf-8", include_str!("assets/console-tasks.js")),
    ("console-staff.js", "text/javascript; charset=utf-8", include_str!("assets/console-staff.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("assets/console.css")),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
];

/// A digest of every asset: the pages ask for `/assets/x?v={VERSION}`, so
/// assets can be cached for a year and a new build is fetched at once.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for (name, _, text) in ASSETS {
        h.update(name.as_bytes());
        h.update(text.as_bytes());
    }
    hex::encode(&h.finalize()[..6])
});

/// The headers every page and asset carries; `cache` says how long it keeps.
pub(crate) fn with_headers(content_type: &'static str, cache: &'static str, body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    (headers, body).into_response()
}

/// A page with the asset version and whether the sandbox is on filled in.
fn page(template: &str, sandbox: bool) -> Response {
    let sandbox = if sandbox { "on" } else { "off" };
    let html = template.replace("{{v}}", &VERSION).replace("{{sandbox}}", sandbox);
    // Revalidated every time: a page names the current assets' version.
    with_headers("text/html; charset=utf-8", "no-cache", html)
}

#[utoipa::path(get, path = "/shop", tag = "pages",
    responses((status = 200, description = "The storefront page: catalog, checkout, payment, order status",
        content_type = "text/html", body = String)))]
pub async fn shop(State(s): State<AppState>) -> Response {
    page(SHOP_HTML, s.sandbox.is_some())
}

#[utoipa::path(get, path = "/account", tag = "pages",
    responses((status = 200, description = "The buyer's page: sign in by email link, subscriptions, orders, credits",
        content_type = "text/html", body = String)))]
pub async fn account(State(s): State<AppState>) -> Response {
    page(ACCOUNT_HTML, s.sandbox.is_some())
}

#[utoipa::path(get, path = "/console", tag = "pages",
    responses((status = 200, description = "The staff console: sign-in, stock, orders, ledger, adjustments, jobs, \
        credits, catalog, webhooks; every action one call to the staff API with the signed-in token",
        content_type = "text/html", body = String)))]
pub async fn console(State(s): State<AppState>) -> Response {
    page(CONSOLE_HTML, s.sandbox.is_some())
}

#[utoipa::path(get, path = "/assets/{name}", tag = "pages",
    params(("name" = String, Path, description = "style.css, common.js, shop.js, account.js, console.js, \
        console-parts.js, console-tasks.js, console-staff.js, console.css or icon.svg", example = "shop.js")),
    responses(
        (status = 200, description = "A script, style sheet or icon of the pages",
            content((String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"))),
        (status = 404, response = NotFound),
    ))]
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, text) =
        ASSETS.iter().find(|(n, _, _)| *n == name).ok_or_else(|| ApiError::not_found(format!("no asset {name}")))?;
    Ok(with_headers(content_type, "public, max-age=31536000, immutable", (*text).to_string()))
}

#[cfg(test)]
mod tests;
