//! Request bodies: read raw (webhook signatures need the exact bytes), with a
//! size limit, and parse JSON into problem+json errors rather than axum's
//! plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 256 * 1024;

/// The raw body, at most `MAX_BODY` bytes.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
            Ok(b) => Ok(RawBody(b)),
            Err(_) => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                format!("bodies are limited to {MAX_BODY} bytes"),
            )),
        }
    }
}

/// Parses a JSON body, naming what is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the body is empty; JSON expected"));
    }
    // serde also reads a struct from a JSON array (`["a@b.c", ...]`); bodies
    // here are objects only.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON for this request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[allow(dead_code)]
        a: Option<i64>,
    }

    /// Found by schemathesis: serde reads a struct from an array too.
    #[test]
    fn only_objects_are_bodies() {
        for bad in [&b"[null]"[..], b" [1]", b"null", b"7", b"\"x\""] {
            let e = parse_json::<Body>(bad).unwrap_err();
            assert_eq!((e.status, e.kind), (StatusCode::BAD_REQUEST, "invalid-request"), "{bad:?}");
        }
        assert!(parse_json::<Body>(b" {\"a\": 1}").is_ok());
    }
}
