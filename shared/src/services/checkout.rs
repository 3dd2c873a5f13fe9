//! `POST /checkout`: hold the plan's files and open an invoice.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::items::{from_item, json, to_item};
use super::model::{HoldRecord, IdempotencyRecord, OrderRecord, PaymentRecord};
use super::orders::{OrderBundle, load, order_index};
use super::stock::{CommitError, StockEntry, commit, delta};
use super::{Ctx, ServiceError, holds, keys};
use crate::domain::{Email, IdempotencyKey, LedgerKind, Money, OrderStatus, Product, ProviderKind, UserId};
use crate::ports::{Change, Cond, InvoiceRequest, Write};

/// The body as sent; `parse` turns it into a `CheckoutRequest`.
#[derive(Debug, Deserialize)]
pub struct CheckoutBody {
    pub email: String,
    pub product_id: String,
    pub provider: String,
    #[serde(default)]
    pub pay_currency: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    pub email: Email,
    pub product_id: String,
    pub provider: ProviderKind,
    pub pay_currency: Option<String>,
}

impl CheckoutBody {
    pub fn parse(self) -> Result<CheckoutRequest, ServiceError> {
        let email = Email::parse(&self.email).map_err(|e| ServiceError::BadInput(e.to_string()))?;
        let provider = ProviderKind::parse(&self.provider).ok_or_else(|| {
            ServiceError::BadInput(format!("provider: '{}' is not one of nowpayments, stripe", self.provider))
        })?;
        let pay_currency = match self.pay_currency {
            Some(c) if provider == ProviderKind::Stripe => {
                return Err(ServiceError::BadInput(format!("pay_currency '{c}' is only for nowpayments")));
            }
            Some(c) => {
                let c = c.trim().to_ascii_lowercase();
                if c.is_empty() || c.len() > 20 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(ServiceError::BadInput(
                        "pay_currency must be a coin code like btc or usdttrc20".into(),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        Ok(CheckoutRequest { email, product_id: self.product_id, provider, pay_currency })
    }
}

#[derive(Debug, Serialize)]
pub struct PaymentView {
    pub provider: ProviderKind,
    pub payment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckoutResponse {
    pub order_id: String,
    pub order_token: String,
    pub status: OrderStatus,
    pub price: Money,
    pub reserved_until: String,
    pub payment: PaymentView,
}

/// Whether the response is a new order (201) or a replay (200).
pub enum Outcome {
    Created(CheckoutResponse),
    Replayed(CheckoutResponse),
}

pub async fn checkout(ctx: &Ctx, req: CheckoutRequest, key: Option<IdempotencyKey>) -> Result<Outcome, ServiceError> {
    let request_hash = hash_request(&req);
    if let Some(key) = &key
        && let Some(done) = replay(ctx, key, &request_hash).await?
    {
        return Ok(Outcome::Replayed(done));
    }
    let product = super::catalog::get(ctx, &req.product_id)
        .await?
        .ok_or_else(|| ServiceError::BadInput(format!("product_id: no product '{}'", req.product_id)))?;
    let order = new_order(ctx, &req, &product);
    let writes = open_writes(&order, &req, key.as_ref(), &request_hash)?;
    let wanted = product.files;
    let entry = StockEntry {
        kind: LedgerKind::Hold,
        file: None,
        change: delta(0, i64::from(wanted), 0),
        reason: format!("checkout {}", product.id),
        reference: order.order_id.clone(),
        actor: "checkout".into(),
    };
    let enough = |c: &crate::domain::StockCounts| {
        if c.available() < i64::from(wanted) {
            Err(ServiceError::InsufficientStock { available: c.available(), wanted })
        } else {
            Ok(())
        }
    };
    match commit(ctx, writes, vec![entry], enough).await {
        Ok(_) => {}
        // A concurrent request with the same key won; answer as it did.
        Err(CommitError::Condition(IDEMPOTENCY_WRITE)) => {
            if let Some(key) = &key
                && let Some(done) = replay(ctx, key, &request_hash).await?
            {
                return Ok(Outcome::Replayed(done));
            }
            return Err(ServiceError::Conflict("a request with this Idempotency-Key is in progress; retry".into()));
        }
        Err(CommitError::Condition(i)) => {
            return Err(ServiceError::internal(anyhow::anyhow!("checkout write {i} failed its condition")));
        }
        Err(CommitError::Service(e)) => return Err(e),
    }
    let payment = open_invoice(ctx, &order, &product, &req).await?;
    Ok(Outcome::Created(response(ctx, &order, &payment)?))
}

fn new_order(ctx: &Ctx, req: &CheckoutRequest, product: &Product) -> OrderRecord {
    let now = ctx.clock.now();
    OrderRecord {
        order_id: ctx.ids.next_id(),
        email: req.email.as_str().to_string(),
        user_id: UserId::for_email(&req.email).as_str().to_string(),
        product_id: product.id.clone(),
        files: product.files,
        interval_seconds: product.interval_seconds,
        validity_days: product.validity_days,
        price: product.price.clone(),
        provider: req.provider,
        status: OrderStatus::Pending,
        created_at: now,
        updated_at: now,
        reserved_until: now.plus_millis(ctx.settings.hold_millis),
        paid_at: None,
        missing: None,
        subscription_id: None,
        provider_status: None,
    }
}

/// Where the idempotency record sits among the checkout's writes.
const IDEMPOTENCY_WRITE: usize = 3;

/// Order, payment, hold, and the idempotency record when a key was given.
fn open_writes(
    order: &OrderRecord,
    req: &CheckoutRequest,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> Result<Vec<Write>, ServiceError> {
    let id = &order.order_id;
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
    let hold = HoldRecord { order_id: id.clone(), count: order.files, expires_at: order.reserved_until };
    let mut writes = vec![
        Write::Put {
            item: to_item(&keys::order(id), order, Some(order_index(order)), None)?,
            cond: Some(Cond::NotExists),
        },
        Write::Put { item: to_item(&keys::payment(id), &payment, None, None)?, cond: Some(Cond::NotExists) },
        Write::Put {
            item: to_item(
                &keys::hold(id),
                &hold,
                Some((keys::HOLDS_INDEX.into(), keys::sort_at(hold.expires_at, id))),
                None,
            )?,
            cond: Some(Cond::NotExists),
        },
    ];
    if let Some(key) = key {
        let rec = IdempotencyRecord { request_hash: request_hash.to_string(), order_id: id.clone() };
        let ttl = order.created_at.plus_days(7).secs();
        writes.push(Write::Put {
            item: to_item(&keys::idempotency(key.as_str()), &rec, None, Some(ttl))?,
            cond: Some(Cond::NotExists),
        });
    }
    Ok(writes)
}

async fn open_invoice(
    ctx: &Ctx,
    order: &OrderRecord,
    product: &Product,
    req: &CheckoutRequest,
) -> Result<PaymentRecord, ServiceError> {
    let invoice_req = InvoiceRequest {
        provider: req.provider,
        order_id: crate::domain::OrderId::parse(&order.order_id)
            .map_err(|e| ServiceError::internal(anyhow::anyhow!(e)))?,
        product_id: product.id.clone(),
        product_name: product.name.clone(),
        price: product.price.clone(),
        pay_currency: req.pay_currency.clone(),
        expires_at: order.reserved_until,
        email: order.email.clone(),
    };
    let invoice = match ctx.gateway.create_invoice(&invoice_req).await {
        Ok(inv) => inv,
        Err(e) => {
            tracing::warn!(order_id = %order.order_id, error = %e, "invoice failed; releasing the hold");
            holds::release(ctx, order, order.files, Some(OrderStatus::Failed), "no invoice", "checkout").await?;
            return Err(ServiceError::ProviderDown(e));
        }
    };
    let changes = vec![
        Change::Set("payment_id".into(), invoice.payment_id.clone().into()),
        Change::Set("pay_address".into(), json(&invoice.pay_address)),
        Change::Set("pay_amount".into(), json(&invoice.pay_amount)),
        Change::Set("pay_currency".into(), json(&invoice.pay_currency)),
        Change::Set("checkout_url".into(), json(&invoice.checkout_url)),
    ];
    let item = ctx.records.update(&keys::payment(&order.order_id), changes, Some(Cond::Exists)).await?;
    Ok(from_item(item)?)
}

/// The stored answer for a key seen before: same request -> the same order;
/// another request -> 422.
async fn replay(ctx: &Ctx, key: &IdempotencyKey, request_hash: &str) -> Result<Option<CheckoutResponse>, ServiceError> {
    let Some(item) = ctx.records.get(&keys::idempotency(key.as_str())).await? else { return Ok(None) };
    let rec: IdempotencyRecord = from_item(item)?;
    if rec.request_hash != request_hash {
        return Err(ServiceError::IdempotencyMismatch);
    }
    let Some(OrderBundle { order, payment, .. }) = load(ctx, &rec.order_id).await? else {
        return Err(ServiceError::internal(anyhow::anyhow!(
            "idempotency record points at missing order {}",
            rec.order_id
        )));
    };
    match payment {
        Some(p) if p.payment_id.is_some() => Ok(Some(response(ctx, &order, &p)?)),
        _ => Err(ServiceError::Conflict(
            "the first request with this Idempotency-Key is still in progress; retry".into(),
        )),
    }
}

fn response(ctx: &Ctx, order: &OrderRecord, p: &PaymentRecord) -> Result<CheckoutResponse, ServiceError> {
    let payment_id =
        p.payment_id.clone().ok_or_else(|| ServiceError::internal(anyhow::anyhow!("payment without id")))?;
    Ok(CheckoutResponse {
        order_id: order.order_id.clone(),
        order_token: ctx.order_token(&order.order_id),
        status: order.status,
        price: order.price.clone(),
        reserved_until: order.reserved_until.rfc3339(),
        payment: PaymentView {
            provider: p.provider,
            payment_id,
            pay_address: p.pay_address.clone(),
            pay_amount: p.pay_amount.clone(),
            pay_currency: p.pay_currency.clone(),
            checkout_url: p.checkout_url.clone(),
        },
    })
}

fn hash_request(req: &CheckoutRequest) -> String {
    let text = format!(
        "{}\n{}\n{}\n{}",
        req.email.as_str(),
        req.product_id,
        req.provider.as_str(),
        req.pay_currency.as_deref().unwrap_or("")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}
