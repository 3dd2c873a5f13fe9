//! The error responses routes share: each is problem+json with a stable
//! `type` (see `http::error`), named once here and referenced by status.

use utoipa::ToResponse;

use crate::http::error::Problem;

/// The request is not valid: a body that is not the expected JSON, a bad
/// field, an unknown product, a bad header (type `invalid-request`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// A missing, wrong or stale credential or signature (type `unauthorized`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(pub Problem);

/// A valid staff token whose role this route does not allow (type `forbidden`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// No such thing, or not for this token (type `not-found`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// Not enough stock (type `insufficient-stock`); not enough spendable
/// credits for a checkout with `use_credits` (type `insufficient-credits`);
/// a repeat checkout for a plan whose order this email has open, without
/// that checkout's Idempotency-Key (type `order-open`: the order's link goes
/// to the owner's email, never to the caller);
/// usage reported for a subscription that has ended (type
/// `subscription-ended`); a staff refund of the order that created a
/// subscription later paid orders still add to (type
/// `refund-later-orders-first`); or the thing is in a state that refuses this, or
/// it kept changing under us (type `conflict`, with Retry-After): try again.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait (type `conflict` only)"))
)]
pub struct Conflict(pub Problem);

/// The body is larger than 256 KiB (type `body-too-large`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct TooLarge(pub Problem);

/// Well formed but refused: an Idempotency-Key reused with another request
/// (type `idempotency-key-reused`), a payment that does not match the order
/// (type `amount-mismatch`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// Too many unpaid orders from this buyer (type `too-many-open-orders`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct TooMany(pub Problem);

/// Too many requests of one kind from this client or for this address
/// (type `rate-limited`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct RateLimited(pub Problem);

/// Something failed on our side; it is logged (type `internal`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Internal(pub Problem);

/// The payment provider did not answer; nothing changed (type
/// `payment-provider-unavailable`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ProviderDown(pub Problem);
