//! The one error-to-response mapping for every HTTP surface: RFC 9457
//! problem+json with a stable `type` per cause. Internals go to the log only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::services::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Last segment of the problem type (`insufficient-stock`).
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
}

/// The body of every error (RFC 9457), served as `application/problem+json`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://stockroom.dev/problems/{cause}`, stable per cause.
    #[serde(rename = "type")]
    #[schema(
        pattern = "^https://stockroom\\.dev/problems/[a-z-]+$",
        example = "https://stockroom.dev/problems/insufficient-stock"
    )]
    pub kind: String,
    pub title: &'static str,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
}

pub const PROBLEM_BASE: &str = "https://stockroom.dev/problems/";

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, kind, title, detail: detail.into(), retry_after: None }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-request", "The request is not valid", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication failed", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed for this role", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("{PROBLEM_BASE}{}", self.kind),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| String::from("{}"));
        let mut resp = (self.status, text).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as E;
        match e {
            E::BadInput(d) => ApiError::bad_request(d),
            E::NotFound(d) => ApiError::not_found(d),
            E::InsufficientStock { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "insufficient-stock",
                "Not enough stock for this plan",
                e.to_string(),
            ),
            E::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused with another request",
                e.to_string(),
            ),
            E::AmountMismatch(d) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "amount-mismatch",
                "The payment does not match the order",
                d,
            ),
            E::Conflict(d) => {
                let mut a = ApiError::new(StatusCode::CONFLICT, "conflict", "Conflicting request", d);
                a.retry_after = Some(1);
                a
            }
            E::InsufficientCredits(d) => {
                ApiError::new(StatusCode::CONFLICT, "insufficient-credits", "Not enough spendable credits", d)
            }
            E::OrderOpen(d) => ApiError::new(StatusCode::CONFLICT, "order-open", "An order for this plan is open", d),
            E::TooMany(d) => {
                let mut a =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too-many-open-orders", "Too many unpaid orders", d);
                a.retry_after = Some(300);
                a
            }
            E::ProviderDown(err) => {
                tracing::error!(error = ?err, "payment provider failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "payment-provider-unavailable",
                    "The payment provider is unavailable",
                    "the payment provider did not answer or refused; nothing changed here, please try again",
                )
            }
            other => {
                tracing::error!(error = ?other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong; it has been logged",
                )
            }
        }
    }
}
