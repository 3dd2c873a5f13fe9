//! A whole service context on the embedded backend with the local defaults
//! (sandbox gateway, a clock tests move), for unit tests of the services,
//! and a paid order in it.

use std::path::Path;
use std::sync::Arc;

use crate::adapters::embedded::open_embedded;
use crate::adapters::sandbox::SandboxGateway;
use crate::config::{Config, Place};
use crate::domain::{Email, ProviderKind};
use crate::ports::clock::{OffsetClock, UlidGen};
use crate::ports::{Files, Queue, Records};
use crate::services::checkout::{self, CheckoutRequest, CheckoutResponse, Outcome};
use crate::services::{Ctx, catalog, restock, webhooks};

/// The buyer of `paid_order`.
pub const BUYER: &str = "buyer@example.com";

/// The context over these ports (a test may wrap one to count or pause it).
pub fn local_ctx(
    records: Arc<dyn Records>,
    files: Arc<dyn Files>,
    queues: (Arc<dyn Queue>, Arc<dyn Queue>),
    clock: Arc<OffsetClock>,
) -> Ctx {
    let cfg = Config::from_lookup(Place::Local, |_| None).expect("the local defaults are valid");
    let gateway = Arc::new(SandboxGateway { public_url: "http://127.0.0.1".into() });
    Ctx::new(records, files, queues.0, queues.1, gateway, clock, Arc::new(UlidGen), crate::app::settings(&cfg))
}

/// The embedded backend in `dir`, unwrapped.
pub fn embedded_ctx(dir: &Path) -> Ctx {
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir, clock.clone()).expect("the embedded backend opens");
    local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock)
}

/// Stocks exactly the files `plan` needs, checks it out for `BUYER` and
/// takes NOWPayments' `finished` IPN for the full price; the order's id
/// (its fulfilment job is queued).
pub async fn paid_order(ctx: &Ctx, plan: &str) -> String {
    catalog::seed(ctx).await.expect("catalog");
    let product = catalog::get(ctx, plan).await.expect("catalog read").expect("a plan of the seed catalog");
    for i in 0..product.files {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await.expect("stock file");
    }
    restock::adopt_new_files(ctx, "test").await.expect("adopt");
    let req = checkout_request(BUYER, plan);
    let Ok(Outcome::Created(order)) = checkout::checkout(ctx, req, None).await else { panic!("checkout refused") };
    let body = finished_ipn(&order, &product.price.to_decimal().normalize().to_string());
    let event = crate::providers::nowpayments::parse(body.as_bytes()).expect("a valid IPN");
    webhooks::ingest(ctx, &event).await.expect("webhook");
    order.order_id
}

/// A paid bronze order of `email` on a stack `paid_order` set up (no new
/// stock): the same buyer, or another, buying again.
pub async fn another_order(ctx: &Ctx, email: &str) -> String {
    let Ok(Outcome::Created(order)) = checkout::checkout(ctx, checkout_request(email, "bronze"), None).await else {
        panic!("checkout refused")
    };
    let price = catalog::get(ctx, "bronze").await.expect("catalog read").expect("bronze").price;
    let body = finished_ipn(&order, &price.to_decimal().normalize().to_string());
    let event = crate::providers::nowpayments::parse(body.as_bytes()).expect("a valid IPN");
    webhooks::ingest(ctx, &event).await.expect("webhook");
    order.order_id
}

/// A NOWPayments checkout of `plan` by `email`, as the HTTP layer builds it.
pub fn checkout_request(email: &str, plan: &str) -> CheckoutRequest {
    CheckoutRequest {
        email: Email::parse(email).expect("a valid email"),
        product_id: plan.into(),
        provider: ProviderKind::Nowpayments,
        pay_currency: None,
        new: false,
        client_ip: None,
        for_subscription: None,
        use_credits: false,
        buyer: None,
    }
}

/// NOWPayments' `finished` IPN body for `order`, paid `price` in full.
pub fn finished_ipn(order: &CheckoutResponse, price: &str) -> String {
    format!(
        r#"{{"payment_id":{},"payment_status":"finished","order_id":"{}","price_amount":{price},"price_currency":"usd","pay_amount":{price},"actually_paid":{price},"pay_currency":"usdttrc20"}}"#,
        order.payment.payment_id, order.order_id
    )
}
