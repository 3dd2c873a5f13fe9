//! Staff routes (behind `auth::staff_only`).

pub mod adjust;
pub mod analytics;
pub mod catalog;
pub mod events;
pub mod hooks;
pub mod ledger;
pub mod me;
pub mod orders;
pub mod staff;

pub use adjust::adjust;
pub use ledger::{CSV_HEADER, ledger};

use axum::extract::{Extension, Path, State};
use axum::{Json, response::IntoResponse, response::Response};
use serde::Serialize;

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use super::openapi::responses::*;
use crate::domain::EndReason;
use crate::services::reconcile::ReconcileReport;
use crate::services::refunds::RefundReport;
use crate::services::revoke::RevokeOutcome;
use crate::services::{ServiceError, refunds, revoke, schedule, stock};

/// File counts by place, listed from storage (the truth).
#[derive(Serialize, utoipa::ToSchema)]
pub struct StockView {
    pub unused: u64,
    /// Files held for unpaid orders.
    pub reserved: i64,
    pub assigned: u64,
    pub banned: u64,
    pub frozen: u64,
    /// unused minus reserved, never below 0.
    pub available: i64,
}

/// The answer of revoke and delete.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RevokeResult {
    pub subscription_id: String,
    pub outcome: RevokeOutcome,
}

#[utoipa::path(get, path = "/admin/stock", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "Stock counted from storage", body = StockView),
        (status = 500, response = Internal),
    ))]
/// Counts from storage listings (the truth); reserved from the holds.
pub async fn stock(State(s): State<AppState>) -> Result<Json<StockView>, ApiError> {
    let ctx = &s.ctx;
    let unused = count(ctx, "unused/").await?;
    let reserved = stock::read_counts(ctx).await?.counts.reserved;
    Ok(Json(StockView {
        unused,
        reserved,
        assigned: count(ctx, "assigned/").await?,
        banned: count(ctx, "banned/").await?,
        frozen: count(ctx, "frozen/").await?,
        available: (unused as i64 - reserved).max(0),
    }))
}

async fn count(ctx: &crate::services::Ctx, prefix: &str) -> Result<u64, ServiceError> {
    let mut n = 0;
    let mut after: Option<String> = None;
    loop {
        let page = ctx.files.list(prefix, after.as_deref(), 1000).await?;
        // Journals and junk beside the stock are not stock.
        n += page.keys.iter().filter(|k| crate::services::listed::stock(ctx, k).is_some()).count() as u64;
        match page.next {
            Some(k) => after = Some(k),
            None => return Ok(n),
        }
    }
}

/// The reconcile job, now: adopts new stock, repairs drift, returns its report.
#[utoipa::path(post, path = "/admin/reconcile", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The reconcile job, run now: new files under unused/ adopted, drift repaired. \
            Every step runs even when one fails; `steps` says which failed",
            body = ReconcileReport),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn reconcile(State(s): State<AppState>, Extension(staff): Extension<Staff>) -> Result<Response, ApiError> {
    // 200 even when a step failed: the report's `steps` show which.
    let report = crate::services::reconcile::run(&s.ctx, &staff.actor()).await;
    Ok(Json(report).into_response())
}

#[utoipa::path(post, path = "/admin/expire", tag = "staff", security(("staff_jwt" = [])),
    responses(
        (status = 200, description = "The expiry job, run now: what moved to grace, expired, was released. \
            Every step runs even when one fails; `steps` says which failed (the scheduled run then fails and is retried)",
            body = schedule::ExpireReport),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn expire(State(s): State<AppState>) -> Result<Json<schedule::ExpireReport>, ApiError> {
    // 200 even when a step failed: the report is the answer, and its `steps`
    // show the failure (the staff asked to run the job, and it did run).
    Ok(Json(schedule::expire_job(&s.ctx).await))
}

/// Records a refund made at the provider and takes the files back.
#[utoipa::path(post, path = "/admin/orders/{id}/refund", tag = "staff", security(("staff_jwt" = [])),
    description = "Gives the money back (Stripe through its API; NOWPayments recorded as by hand) and takes back \
        exactly what the order bought: an add-on its files (as replacements left them), a renewal or extension \
        its days, the order that created a subscription all of it. That last is refused while later paid orders \
        (renewals, extensions, add-ons) still add to the live subscription: 409 type `refund-later-orders-first`, \
        its detail naming them; refund those first, or revoke the subscription and then refund. A refund the \
        provider made itself cannot be refused: it ends the subscription and raises an `ops.alert` \
        (`refund_ended_later_orders`) naming the later orders. Other 409 types: `conflict` (nothing was paid, \
        or it kept changing: try again).",
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "Order refunded (again: unchanged), its files revoked to unused/",
            body = RefundReport),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn refund(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, ApiError> {
    let id = crate::http::ids::order(&id)?;
    let report = refunds::refund_order(&s.ctx, &id, &staff.actor()).await?;
    Ok(Json(report).into_response())
}

#[utoipa::path(post, path = "/admin/subscriptions/{id}/revoke", tag = "staff", security(("staff_jwt" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Subscription revoked (or it had ended before), files back in unused/",
            body = RevokeResult),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn revoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, ApiError> {
    let outcome = revoke::revoke(&s.ctx, &id, EndReason::Revoked, &staff.actor()).await?;
    Ok(Json(RevokeResult { subscription_id: id, outcome }).into_response())
}

/// `DELETE /admin/subscriptions/{id}`: ends it now, as revoke does (files
/// back to stock, ledger kind revoke, owner notified), but admin only and
/// booked as "deleted by staff" rather than "revoked". Idempotent: once
/// ended, it answers 200 with outcome `AlreadyEnded`. Unknown id: 404.
#[utoipa::path(delete, path = "/admin/subscriptions/{id}", tag = "staff", security(("staff_jwt" = [])),
    description = "Ends the subscription now, as revoke does (files back to stock, ledger kind revoke, owner \
        notified), booked as \"deleted by staff\". Idempotent: once ended, 200 with outcome `AlreadyEnded`.",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Subscription ended (or it had ended before), files back in unused/",
            body = RevokeResult),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    ))]
pub async fn delete_subscription(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, ApiError> {
    let actor = staff.actor();
    let outcome = revoke::revoke_noted(&s.ctx, &id, EndReason::Revoked, &actor, Some(DELETED)).await?;
    Ok(Json(RevokeResult { subscription_id: id, outcome }).into_response())
}

/// The ledger reason and event note of a deleted subscription.
pub const DELETED: &str = "deleted by staff";
