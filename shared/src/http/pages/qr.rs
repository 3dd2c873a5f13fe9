//! `GET /qr.svg?data=...`: a QR code as SVG, so the shop can show a payment
//! address to scan without a script drawing it or an image from elsewhere.
//! A pure function of its input; the SVG holds only rectangles.

use axum::extract::Query;
use axum::response::Response;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use super::with_headers;
use crate::http::error::ApiError;
use crate::http::openapi::responses::*;

/// Longer than any payment address or URI the shop shows.
const MAX_DATA: usize = 256;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// The text to encode (a payment address), 1 to 256 characters.
    #[param(min_length = 1, max_length = 256)]
    pub data: String,
}

#[utoipa::path(get, path = "/qr.svg", tag = "pages",
    params(QrQuery),
    responses(
        (status = 200, description = "The text as a QR code", content_type = "image/svg+xml", body = String),
        (status = 400, response = BadRequest),
    ))]
pub async fn qr_svg(
    query: Result<Query<QrQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let svg = render(&q.data)?;
    Ok(with_headers("image/svg+xml", "public, max-age=86400", svg))
}

pub(crate) fn render(data: &str) -> Result<String, ApiError> {
    if data.is_empty() || data.chars().count() > MAX_DATA {
        return Err(ApiError::bad_request(format!("data must be 1 to {MAX_DATA} characters")));
    }
    let code = QrCode::new(data.as_bytes()).map_err(|e| ApiError::bad_request(format!("cannot encode: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
