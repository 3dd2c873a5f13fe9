//! Buyers' sign-in and their own page: `POST /auth/link`, `POST
//! /auth/session`, `GET /me`, `POST /me/subscriptions/{id}/replacements`;
//! and `customer`, which reads a customer
//! session off a request for every route that acts for a buyer.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::bearer_token;
use super::body::{RawBody, parse_json};
use super::error::ApiError;
use super::openapi::responses::*;
use super::{AppState, ClientIp};
use crate::domain::Email;
use crate::services::ServiceError;
use crate::services::me::{self, Me};
use crate::services::replacements::{self, ReplacementView, ReportBody};
use crate::services::signin::session::{self, Session};
use crate::services::signin::{self, Audience};

/// The signed-in buyer, if the request carries `Authorization: Bearer`.
/// A header that is there but is no valid customer session is 401, never
/// "signed out": a caller who meant to act as a buyer learns it failed.
pub fn customer(state: &AppState, headers: &HeaderMap) -> Result<Option<Email>, ApiError> {
    if headers.get(axum::http::header::AUTHORIZATION).is_none() {
        return Ok(None);
    }
    let token = bearer_token(headers)
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer {session_token}`"))?;
    Ok(Some(session::verify(&state.ctx, token)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LinkBody {
    #[schema(example = "buyer@example.com")]
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkSent {
    pub detail: &'static str,
}

#[utoipa::path(post, path = "/auth/link", tag = "customer",
    request_body = LinkBody,
    responses(
        (status = 202, description = "Whatever the address: a single-use sign-in link valid 15 minutes is mailed to it", body = LinkSent),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
    ))]
pub async fn link(
    State(s): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body = parse_json::<LinkBody>(&raw)?;
    let email = Email::parse(&body.email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let ip = ip.map(|Extension(ClientIp(ip))| ip);
    signin::request_link(&s.ctx, Audience::Customer, &email, ip.as_deref()).await?;
    let sent = LinkSent { detail: "a sign-in link is on its way to that address; it works once, for 15 minutes" };
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SessionBody {
    /// The `token` of the sign-in link.
    pub token: String,
}

#[utoipa::path(post, path = "/auth/session", tag = "customer",
    request_body = SessionBody,
    responses(
        (status = 200, description = "The link is used up; a customer session for its address", body = Session),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn session(State(s): State<AppState>, RawBody(raw): RawBody) -> Result<Json<Session>, ApiError> {
    let body = parse_json::<SessionBody>(&raw)?;
    let email = signin::exchange(&s.ctx, Audience::Customer, body.token.trim()).await?;
    Ok(Json(session::mint(&s.ctx, &email)?))
}

#[utoipa::path(get, path = "/me", tag = "customer",
    security(("customer_session" = [])),
    responses(
        (status = 200, description = "The signed-in buyer's subscriptions, orders and credits", body = Me),
        (status = 401, response = Unauthorized),
        (status = 500, response = Internal),
    ))]
pub async fn me(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let email = signed_in(&s, &headers)?;
    Ok(Json(me::me(&s.ctx, &email).await?))
}

/// The buyer a route that only acts for a buyer serves: no session is 401.
fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Email, ApiError> {
    Ok(customer(state, headers)?
        .ok_or_else(|| ServiceError::Unauthorized("sign in: Authorization: Bearer {session_token}".into()))?)
}

#[utoipa::path(post, path = "/me/subscriptions/{id}/replacements", tag = "customer",
    security(("customer_session" = [])),
    description = "Reports a file of the signed-in buyer's subscription bad. It goes to banned/ and a fresh file from \
        stock takes its place, exactly once (`replaced`); with no stock the file stays in use and its replacement \
        is filled first when stock returns (`backordered`). Within the plan's `warranty_hours` of the file's \
        delivery and at most `max_replacements` times per subscription. Reporting the same file again answers \
        200 with the same replacement. Another buyer's subscription, or a file it does not list, is 404. \
        409 types: `out-of-warranty`, `replacement-limit`, `subscription-ended`, `conflict` (try again).",
    params(("id" = String, Path, description = "Subscription id, as `GET /me` lists it")),
    request_body = ReportBody,
    responses(
        (status = 201, description = "Replaced, or waiting for stock", body = ReplacementView),
        (status = 200, description = "Reported before: the same replacement as it stands", body = ReplacementView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 500, response = Internal),
    ))]
pub async fn replace(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let email = signed_in(&s, &headers)?;
    let body = parse_json::<ReportBody>(&raw)?;
    let done = replacements::report(&s.ctx, &email, &id, &body).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(done.view)).into_response())
}
