//! Answers to a checkout seen before: the same idempotency key, or an open
//! order this email already has for the product.

use super::request::{CheckoutRequest, CheckoutResponse};
use crate::domain::IdempotencyKey;
use crate::services::events::{self, Event};
use crate::services::model::{OrderRecord, PaymentRecord};
use crate::services::orders::{OrderBundle, load};
use crate::services::store::idempotency;
use crate::services::store::limits;
use crate::services::tx::Tx;
use crate::services::{Ctx, ServiceError};

/// The stored answer for a key seen before: same request -> the same order;
/// another request -> 422.
pub(super) async fn replay(
    ctx: &Ctx,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<Option<CheckoutResponse>, ServiceError> {
    let Some(rec) = idempotency::get(ctx, key.as_str()).await? else { return Ok(None) };
    if rec.request_hash != request_hash {
        return Err(ServiceError::IdempotencyMismatch);
    }
    answer_for(ctx, &rec.order_id).await.map(Some)
}

/// What an open order is for: a plan, or a plan or add-on for one
/// subscription (so a renewal is not mistaken for a new purchase).
pub(super) fn pointer_topic(req: &CheckoutRequest) -> String {
    match &req.for_subscription {
        Some(f) => format!("{}@{}", req.product_id, f.subscription_id),
        None => req.product_id.clone(),
    }
}

pub(super) enum Open {
    None,
    /// This order, open with the same provider.
    Same(String),
    OtherProvider,
}

/// The open order this email already has for this product from this
/// address, if any.
pub(super) async fn open_order(ctx: &Ctx, req: &CheckoutRequest) -> Result<Open, ServiceError> {
    let pointer = limits::open_pointer(req.email.as_str(), req.client_ip.as_deref(), &pointer_topic(req));
    let Some(order_id) = limits::pointed(ctx, &pointer).await? else { return Ok(Open::None) };
    let order_id = order_id.as_str();
    match load(ctx, order_id).await? {
        Some(b) if b.order.status.is_open() && b.order.provider == req.provider => Ok(Open::Same(order_id.into())),
        Some(b) if b.order.status.is_open() => Ok(Open::OtherProvider),
        _ => {
            // A pointer left behind: clear it (if it is still that one).
            limits::clear_pointer(ctx, &pointer, order_id).await?;
            Ok(Open::None)
        }
    }
}

/// A repeat of an open order without its Idempotency-Key: its token is
/// never handed to whoever asks (knowing an email and a plan proves
/// nothing), so the answer is 409 and the order's link goes to its owner's
/// email (the `order.link_requested` event; the mailer sends it), at most
/// once per order in `LINK_MAIL_WINDOW_MILLIS` however often it is asked.
pub(super) async fn order_open(ctx: &Ctx, req: &CheckoutRequest, order_id: &str) -> ServiceError {
    let event = Event::OrderLinkRequested { order_id: order_id.to_string(), email: req.email.as_str().to_string() };
    if let Err(e) = link_requested(ctx, order_id, &event).await {
        // The answer stays 409: the buyer can ask again.
        tracing::error!(order = %order_id, error = ?e, "could not record the order link request");
    }
    ServiceError::OrderOpen(format!(
        "an order for {} is already open for this email; its link was sent to that address \
         (send the same Idempotency-Key to get it back here, or \"new\": true for another order)",
        req.product_id
    ))
}

/// The link event with its window's mark, in one commit; nothing when the
/// link went out within the window.
async fn link_requested(ctx: &Ctx, order_id: &str, event: &Event) -> Result<(), ServiceError> {
    let mut tx = Tx::new();
    tx.push((), limits::link_mailed(order_id, ctx.clock.now())?).push((), events::record(ctx, event)?);
    // Refused: mailed within the window already.
    let _ = tx.commit(ctx).await?;
    Ok(())
}

async fn answer_for(ctx: &Ctx, order_id: &str) -> Result<CheckoutResponse, ServiceError> {
    let Some(OrderBundle { order, payment, .. }) = load(ctx, order_id).await? else {
        return Err(ServiceError::internal(anyhow::anyhow!("order {order_id} is referenced but missing")));
    };
    match payment {
        Some(p) if p.payment_id.is_some() => response(ctx, &order, &p),
        _ => Err(ServiceError::Conflict("the first request for this order is still in progress; retry".into())),
    }
}

pub(super) fn response(ctx: &Ctx, order: &OrderRecord, p: &PaymentRecord) -> Result<CheckoutResponse, ServiceError> {
    let payment_id =
        p.payment_id.clone().ok_or_else(|| ServiceError::internal(anyhow::anyhow!("payment without id")))?;
    Ok(CheckoutResponse {
        order_id: order.order_id.clone(),
        order_token: ctx.settings.order_tokens().sign(&order.order_id),
        status: order.status,
        price: order.price.clone(),
        reserved_until: order.reserved_until.rfc3339(),
        payment: crate::ports::Invoice {
            provider: p.provider,
            payment_id,
            pay_address: p.pay_address.clone(),
            pay_amount: p.pay_amount.clone(),
            pay_currency: p.pay_currency.clone(),
            checkout_url: p.checkout_url.clone(),
        },
        credits_used: order.credits,
        amount_due: order.amount_due(),
    })
}
