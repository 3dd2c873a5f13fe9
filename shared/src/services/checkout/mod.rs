//! `POST /checkout`: hold the plan's files and open an invoice.

mod credits;
mod purpose;
mod repeat;
mod request;
#[cfg(test)]
mod tests;

pub use request::{CheckoutBody, CheckoutRequest, CheckoutResponse, Outcome};

use repeat::{Open, open_order, order_open, pointer_topic, replay, response};

use super::lifecycle::{self, Move};
use super::model::{HoldRecord, OrderRecord, PaymentRecord};
use super::stock::{StockEntry, delta};
use super::store::idempotency::{self, IdempotencyRecord};
use super::store::limits;
use super::store::orders::{self, OrderBundle};
use super::tx::{Commit, Tx};
use super::{Ctx, ServiceError};
use crate::domain::{IdempotencyKey, LedgerKind, OrderId, OrderStatus, Product, ProviderKind, StockCounts, UserId};
use crate::ports::{InvoiceRequest, Write};

/// What each of the checkout's writes is, to read a failed condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Record,
    Idempotency,
    OpenPointer,
    EmailLimit,
    IpLimit,
    Credits,
}

/// How an attempt at the commit failed.
enum Failed {
    Refused(Slot),
    Error(ServiceError),
}

pub async fn checkout(
    ctx: &Ctx,
    mut req: CheckoutRequest,
    key: Option<IdempotencyKey>,
) -> Result<Outcome, ServiceError> {
    if let Some(buyer) = &req.buyer
        && *buyer != req.email
    {
        return Err(ServiceError::BadInput(format!(
            "email: signed in as {buyer}; a session checks out for its own address only"
        )));
    }
    if req.use_credits && req.buyer.is_none() {
        return Err(ServiceError::Unauthorized(
            "use_credits needs the buyer's session: sign in (POST /auth/link) and send Authorization: Bearer {session_token}"
                .into(),
        ));
    }
    let request_hash = req.hash();
    if let Some(key) = &key
        && let Some(done) = replay(ctx, key, &request_hash).await?
    {
        return Ok(Outcome::Replayed(done));
    }
    let product = super::catalog::get(ctx, &req.product_id)
        .await?
        .ok_or_else(|| ServiceError::BadInput(format!("product_id: no product '{}'", req.product_id)))?;
    let purchase = purpose::resolve(ctx, &req, &product).await?;
    if !product.sold_for(purchase.purpose == orders::Purpose::Renew) {
        return Err(ServiceError::BadInput(format!("product_id: '{}' is retired and no longer sold", product.id)));
    }
    let product = super::seats::priced(ctx, product, purchase.purpose, purchase.for_subscription.as_deref()).await?;
    // The open-order pointer is put with the order (condition: absent), so it
    // is read only when the commit did not go through: a repeat is then
    // answered exactly as if it had been looked up first.
    let mut looked = req.new;
    let mut order = loop {
        let failed = match attempt(ctx, &req, &product, &purchase, key.as_ref(), &request_hash).await {
            Ok(Ok(order)) => break order,
            Ok(Err(slot)) => Failed::Refused(slot),
            Err(e) => Failed::Error(e),
        };
        if !looked {
            looked = true;
            match open_order(ctx, &req).await? {
                Open::Same(id) => return Err(order_open(ctx, &req, &id).await),
                // Switching provider (crypto to card, say) is a new order.
                Open::OtherProvider => {
                    req.new = true;
                    continue;
                }
                // A pointer left behind, now cleared: try again.
                Open::None if matches!(failed, Failed::Refused(Slot::OpenPointer)) => continue,
                Open::None => {}
            }
        }
        return match failed {
            Failed::Refused(slot) => refused(ctx, slot, &req, key.as_ref(), &request_hash).await,
            Failed::Error(e) => Err(e),
        };
    };
    if order.amount_due().amount <= 0 {
        // Credits pay it all: no provider, the order is paid now.
        let payment = credits::paid_in_full(ctx, &mut order).await?;
        return Ok(Outcome::Created(response(ctx, &order, &payment)?));
    }
    let payment = open_invoice(ctx, &order, &product, &req).await?;
    Ok(Outcome::Created(response(ctx, &order, &payment)?))
}

/// Writes the order and its hold in one commit; the slot whose condition
/// failed if it was refused.
async fn attempt(
    ctx: &Ctx,
    req: &CheckoutRequest,
    product: &Product,
    purchase: &purpose::Purchase,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> Result<Result<OrderRecord, Slot>, ServiceError> {
    let mut order = new_order(ctx, req, product, purchase);
    if let Some(buyer) = req.buyer.as_ref().filter(|_| req.use_credits) {
        credits::apply(ctx, &mut order, buyer).await?;
    }
    let mut tx = open_writes(ctx, &mut order, req, key, request_hash)?;
    if order.credits > 0 {
        tx.extend(Slot::Credits, super::credits::opening_writes(ctx, &order)?);
    }
    let wanted = purchase.files;
    if wanted > 0 {
        tx.stock(StockEntry {
            kind: LedgerKind::Hold,
            file: None,
            change: delta(0, i64::from(wanted), 0),
            reason: format!("checkout {}", product.id),
            reference: order.order_id.clone(),
            actor: "checkout".into(),
        });
    }
    tx.check(move |c: &StockCounts| {
        if c.available() < i64::from(wanted) {
            Err(ServiceError::InsufficientStock { available: c.available(), wanted })
        } else {
            Ok(())
        }
    });
    Ok(match tx.commit(ctx).await? {
        Commit::Done => Ok(order),
        Commit::Refused(slot) => Err(slot),
    })
}

/// Why the commit was refused, as the answer the buyer gets.
async fn refused(
    ctx: &Ctx,
    slot: Slot,
    req: &CheckoutRequest,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> Result<Outcome, ServiceError> {
    let busy = || ServiceError::Conflict("an identical checkout is in progress; retry".into());
    match slot {
        Slot::Idempotency => match key {
            Some(key) => replay(ctx, key, request_hash).await?.map(Outcome::Replayed).ok_or_else(busy),
            None => Err(busy()),
        },
        Slot::OpenPointer => match open_order(ctx, req).await? {
            Open::Same(id) => Err(order_open(ctx, req, &id).await),
            _ => Err(busy()),
        },
        Slot::EmailLimit => Err(ServiceError::TooMany(format!(
            "{} already has {} unpaid orders from this address; pay one or wait for its hold to end",
            req.email, ctx.settings.pending_per_email
        ))),
        Slot::IpLimit => Err(ServiceError::TooMany(format!(
            "this address already has {} unpaid orders; pay one or wait for its hold to end",
            ctx.settings.pending_per_ip
        ))),
        Slot::Credits => {
            Err(ServiceError::InsufficientCredits("the credits were spent meanwhile; check out again".into()))
        }
        Slot::Record => Err(ServiceError::internal(anyhow::anyhow!("checkout write failed its condition"))),
    }
}

/// Stripe Checkout Sessions live at least 30 minutes and ours expires with
/// the hold, so a Stripe hold is never shorter than that (plus a margin).
pub const STRIPE_MIN_HOLD_MILLIS: i64 = 31 * 60 * 1000;

fn hold_millis(ctx: &Ctx, provider: ProviderKind) -> i64 {
    match provider {
        ProviderKind::Stripe => ctx.settings.hold_millis.max(STRIPE_MIN_HOLD_MILLIS),
        ProviderKind::Nowpayments => ctx.settings.hold_millis,
    }
}

fn new_order(ctx: &Ctx, req: &CheckoutRequest, product: &Product, p: &purpose::Purchase) -> OrderRecord {
    let now = ctx.clock.now();
    OrderRecord {
        order_id: ctx.ids.next_id(),
        email: p.email.as_str().to_string(),
        user_id: UserId::for_email(&p.email).as_str().to_string(),
        product_id: product.id.clone(),
        files: p.files,
        interval_seconds: p.interval_seconds,
        validity_days: p.validity_days,
        price: product.price.clone(),
        provider: req.provider,
        status: OrderStatus::Pending,
        created_at: now,
        updated_at: now,
        reserved_until: now.plus_millis(hold_millis(ctx, req.provider)),
        paid_at: None,
        missing: None,
        received: None,
        overpaid: None,
        subscription_id: None,
        provider_status: None,
        limit_keys: Vec::new(),
        open_pointer: None,
        purpose: p.purpose,
        for_subscription: p.for_subscription.clone(),
        credits: 0,
        credits_minor: 0,
        refunded_by: None,
        refund_method: None,
        refund_id: None,
        credits_deactivated_by: None,
    }
}

/// Order, payment and hold; the idempotency record, the open-order pointer
/// and the limit counters when they apply. Fills the order's limit fields.
fn open_writes(
    ctx: &Ctx,
    order: &mut OrderRecord,
    req: &CheckoutRequest,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> Result<Tx<Slot>, ServiceError> {
    let id = order.order_id.clone();
    let mut extra: Vec<(Slot, Write)> = Vec::new();
    if let Some(key) = key {
        let rec = IdempotencyRecord { request_hash: request_hash.to_string(), order_id: id.clone() };
        extra.push((Slot::Idempotency, idempotency::put(key.as_str(), &rec, order.created_at)?));
    }
    if !req.new {
        let pointer = limits::open_pointer(&order.email, req.client_ip.as_deref(), &pointer_topic(req));
        order.open_pointer = Some(pointer.pk.clone());
        extra.push((Slot::OpenPointer, limits::put_pointer(&pointer, &id)?));
    }
    let email = limits::email_counter(&order.email, req.client_ip.as_deref());
    order.limit_keys.push(email.pk.clone());
    extra.push((Slot::EmailLimit, limits::take(email, ctx.settings.pending_per_email)));
    if let (Some(ip), max) = (&req.client_ip, ctx.settings.pending_per_ip)
        && max > 0
    {
        let counter = limits::ip_counter(ip);
        order.limit_keys.push(counter.pk.clone());
        extra.push((Slot::IpLimit, limits::take(counter, max)));
    }
    let payment = PaymentRecord {
        order_id: id.clone(),
        provider: req.provider,
        payment_id: None,
        pay_address: None,
        pay_amount: None,
        pay_currency: None,
        checkout_url: None,
        pay_currency_requested: req.pay_currency.clone(),
    };
    let mut tx = Tx::new();
    tx.push(Slot::Record, orders::put_new(order)?).push(Slot::Record, orders::put_payment(&payment)?);
    tx.extend(Slot::Record, super::store::order_index::put(order)?);
    if order.files > 0 {
        let hold = HoldRecord { order_id: id.clone(), count: order.files, expires_at: order.reserved_until };
        tx.push(Slot::Record, orders::put_hold(&hold)?);
    }
    for (slot, w) in extra {
        tx.push(slot, w);
    }
    Ok(tx)
}

async fn open_invoice(
    ctx: &Ctx,
    order: &OrderRecord,
    product: &Product,
    req: &CheckoutRequest,
) -> Result<PaymentRecord, ServiceError> {
    let invoice_req = InvoiceRequest {
        provider: req.provider,
        order_id: OrderId::parse(&order.order_id).map_err(|e| ServiceError::internal(anyhow::anyhow!(e)))?,
        product_id: product.id.clone(),
        product_name: product.name.clone(),
        price: order.amount_due(),
        pay_currency: req.pay_currency.clone(),
        expires_at: order.reserved_until,
        email: order.email.clone(),
    };
    let invoice = match ctx.gateway.create_invoice(&invoice_req).await {
        Ok(inv) => inv,
        Err(e) => {
            tracing::warn!(order_id = %order.order_id, error = %e, "invoice failed; releasing the hold");
            let hold = (order.files > 0).then(|| HoldRecord {
                order_id: order.order_id.clone(),
                count: order.files,
                expires_at: order.reserved_until,
            });
            let bundle = OrderBundle { order: order.clone(), payment: None, hold, intent: None };
            lifecycle::apply(ctx, Move::new(&bundle, OrderStatus::Failed, "checkout", "no invoice")).await?;
            return Err(ServiceError::ProviderDown(e));
        }
    };
    orders::record_invoice(ctx, &order.order_id, &invoice).await
}
