//! The one error-to-response mapping for every HTTP surface: RFC 9457
//! problem+json with a stable `type` per cause. Internals go to the log only,
//! once, when the response is produced (`IntoResponse`); converting a
//! `ServiceError` is pure.

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
    /// The server-side failure behind a 5xx, logged when the response is made.
    cause: Option<ServiceError>,
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
        ApiError { status, kind, title, detail: detail.into(), retry_after: None, cause: None }
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

    fn caused_by(mut self, cause: ServiceError) -> Self {
        self.cause = Some(cause);
        self
    }

    /// Logs the failure behind a 5xx (client errors are not logged). Called
    /// once per error, where it becomes a response; a caller that turns an
    /// `ApiError` into something else (the sandbox) calls it itself.
    pub fn log(&self) {
        match &self.cause {
            Some(ServiceError::ProviderDown(err)) => tracing::error!(error = ?err, "payment provider failed"),
            Some(other) => tracing::error!(error = ?other, "internal error"),
            None => {}
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
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
            E::Refused { why, detail } => ApiError::new(StatusCode::CONFLICT, why.kind, why.title, detail),
            E::Unauthorized(d) => ApiError::unauthorized(d),
            E::RateLimited { detail, retry_after_secs } => {
                let mut a = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", detail);
                a.retry_after = Some(retry_after_secs.max(1));
                a
            }
            down @ E::ProviderDown(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "payment-provider-unavailable",
                "The payment provider is unavailable",
                "the payment provider did not answer or refused; nothing changed here, please try again",
            )
            .caused_by(down),
            other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "something went wrong; it has been logged",
            )
            .caused_by(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use super::*;
    use crate::ports::{ProviderError, RecordError};

    /// Counts error-level events, with the message of the last one.
    #[derive(Default)]
    struct Errors {
        count: AtomicUsize,
        last: std::sync::Mutex<String>,
    }

    struct Counter(Arc<Errors>);

    impl Subscriber for Counter {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, e: &Event<'_>) {
            if *e.metadata().level() == Level::ERROR {
                self.0.count.fetch_add(1, Ordering::SeqCst);
                let mut seen = String::new();
                e.record(&mut |f: &tracing::field::Field, v: &dyn std::fmt::Debug| {
                    seen.push_str(&format!("{}={v:?};", f.name()));
                });
                *self.0.last.lock().unwrap() = seen;
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// The status and kind `e` maps to, and the error-level events logged by
    /// the conversion and by making the response.
    fn mapped(e: ServiceError) -> (StatusCode, &'static str, Option<u64>, usize, usize, String) {
        let errors = Arc::new(Errors::default());
        tracing::subscriber::with_default(Counter(errors.clone()), || {
            let api = ApiError::from(e);
            let in_from = errors.count.load(Ordering::SeqCst);
            let (status, kind, retry) = (api.status, api.kind, api.retry_after);
            let resp = api.into_response();
            assert_eq!(resp.status(), status);
            let header = resp.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().parse().unwrap());
            assert_eq!(header, retry);
            let total = errors.count.load(Ordering::SeqCst);
            (status, kind, retry, in_from, total, errors.last.lock().unwrap().clone())
        })
    }

    #[test]
    fn client_errors_map_to_their_status_and_are_not_logged() {
        let cases = [
            (ServiceError::BadInput("b".into()), StatusCode::BAD_REQUEST, "invalid-request", None),
            (ServiceError::NotFound("n".into()), StatusCode::NOT_FOUND, "not-found", None),
            (
                ServiceError::InsufficientStock { available: 1, wanted: 2 },
                StatusCode::CONFLICT,
                "insufficient-stock",
                None,
            ),
            (ServiceError::IdempotencyMismatch, StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused", None),
            (ServiceError::AmountMismatch("a".into()), StatusCode::UNPROCESSABLE_ENTITY, "amount-mismatch", None),
            (ServiceError::Conflict("c".into()), StatusCode::CONFLICT, "conflict", Some(1)),
            (ServiceError::InsufficientCredits("i".into()), StatusCode::CONFLICT, "insufficient-credits", None),
            (ServiceError::OrderOpen("o".into()), StatusCode::CONFLICT, "order-open", None),
            (ServiceError::TooMany("t".into()), StatusCode::TOO_MANY_REQUESTS, "too-many-open-orders", Some(300)),
            (ServiceError::Unauthorized("u".into()), StatusCode::UNAUTHORIZED, "unauthorized", None),
            (
                ServiceError::Refused {
                    why: &crate::services::Refusal { kind: "out-of-warranty", title: "t" },
                    detail: "d".into(),
                },
                StatusCode::CONFLICT,
                "out-of-warranty",
                None,
            ),
            (
                ServiceError::RateLimited { detail: "r".into(), retry_after_secs: 42 },
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                Some(42),
            ),
        ];
        for (e, status, kind, retry) in cases {
            let shown = format!("{e:?}");
            let (s, k, r, in_from, total, _) = mapped(e);
            assert_eq!((s, k, r), (status, kind, retry), "{shown}");
            assert_eq!((in_from, total), (0, 0), "{shown} was logged");
        }
    }

    #[test]
    fn a_transaction_conflict_is_409_with_retry_after() {
        let (s, k, r, _, total, _) = mapped(RecordError::Conflict.into());
        assert_eq!((s, k, r, total), (StatusCode::CONFLICT, "conflict", Some(1), 0));
    }

    #[test]
    fn server_errors_are_logged_once_when_the_response_is_made_not_by_from() {
        let (s, k, _, in_from, total, last) =
            mapped(ServiceError::internal(anyhow::anyhow!("disk on fire").context("saving the order")));
        assert_eq!((s, k), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
        assert_eq!((in_from, total), (0, 1));
        assert!(last.contains("message=internal error") && last.contains("disk on fire"), "{last}");

        let (s, _, _, in_from, total, _) = mapped(ServiceError::Injected("step"));
        assert_eq!((s, in_from, total), (StatusCode::INTERNAL_SERVER_ERROR, 0, 1));

        let (s, _, _, _, _, last) = mapped(RecordError::Invalid("bad key".into()).into());
        assert!(s == StatusCode::INTERNAL_SERVER_ERROR && last.contains("bad key"), "{last}");

        let down = ServiceError::ProviderDown(ProviderError::Unavailable(anyhow::anyhow!("timed out")));
        let (s, k, _, in_from, total, last) = mapped(down);
        assert_eq!((s, k), (StatusCode::BAD_GATEWAY, "payment-provider-unavailable"));
        assert_eq!((in_from, total), (0, 1));
        assert!(last.contains("message=payment provider failed") && last.contains("timed out"), "{last}");
    }

    #[test]
    fn the_response_never_carries_the_cause() {
        let resp = ApiError::from(ServiceError::internal(anyhow::anyhow!("secret table name"))).into_response();
        let body = futures_body(resp);
        assert!(!body.contains("secret table name"), "{body}");
    }

    fn futures_body(resp: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(axum::body::to_bytes(resp.into_body(), 4096)).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
