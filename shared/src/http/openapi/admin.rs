//! The staff routes' operations. The handlers live in `http::admin`; their
//! documentation lives here, on stand-in functions, so the handlers stay
//! plain axum code.
//!
//! To document a new staff route:
//! 1. add a stand-in below: `#[utoipa::path(METHOD, path = "...", tag =
//!    "staff", security(("staff_jwt" = [])), request_body = ..., responses(...))]`
//!    on an empty `fn`, listing the statuses the handler returns besides 401
//!    and 403 (the modifier in `mod.rs` adds those, and the roles from
//!    `auth::STAFF_ROUTES`, to every `/admin/` operation);
//! 2. list the stand-in in `ApiDoc`'s `paths(...)`;
//! 3. give the handler's body types `#[derive(utoipa::ToSchema)]` (or, until
//!    they do, a mirror here with `#[schema(as = ...)]`).
//!
//! The test `every_staff_route_is_documented` fails until step 2 is done.

use utoipa::ToSchema;

use super::responses::*;
use crate::services::reconcile::ReconcileReport;
use crate::services::refunds::RefundReport;
use crate::services::revoke::RevokeOutcome;
use crate::services::sweeps::ExpireReport;

/// File counts by place, listed from storage (the truth).
/// Mirrors `http::admin::StockView`.
#[derive(ToSchema)]
#[schema(as = StockView)]
pub struct StockViewDoc {
    pub unused: u64,
    /// Files held for unpaid orders.
    pub reserved: i64,
    pub assigned: u64,
    pub banned: u64,
    pub frozen: u64,
    /// unused minus reserved, never below 0.
    pub available: i64,
}

/// Mirrors the body `http::admin::revoke` builds.
#[derive(ToSchema)]
#[schema(as = RevokeResult)]
pub struct RevokeResultDoc {
    pub subscription_id: String,
    pub outcome: RevokeOutcome,
}

#[utoipa::path(get, path = "/admin/stock", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Stock counted from storage", body = StockViewDoc),
        (status = 500, response = Internal),
    ))]
#[allow(dead_code)]
fn stock() {}

#[utoipa::path(post, path = "/admin/reconcile", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The reconcile job, run now: new files under unused/ adopted, drift repaired",
            body = ReconcileReport),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
#[allow(dead_code)]
fn reconcile() {}

#[utoipa::path(post, path = "/admin/expire", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The expiry job, run now: what moved to grace, expired, was released",
            body = ExpireReport),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
#[allow(dead_code)]
fn expire() {}

#[utoipa::path(post, path = "/admin/orders/{id}/refund", tag = "staff", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Order refunded (again: unchanged), its files revoked to unused/",
            body = RefundReport),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
#[allow(dead_code)]
fn refund() {}

#[utoipa::path(post, path = "/admin/subscriptions/{id}/revoke", tag = "staff", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Subscription revoked (or it had ended before), files back in unused/",
            body = RevokeResultDoc),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
#[allow(dead_code)]
fn revoke() {}
