//! A duplicate fulfilment run that stalls before its move while another run
//! fulfils the order and a refund takes the file back: its late move must
//! not leave the file under the buyer with the record saying unused/ (which
//! reconcile then marks lost, leaving an orphan).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::*;
use crate::adapters::embedded::{DirFiles, open_embedded};
use crate::adapters::sandbox::SandboxGateway;
use crate::config::{Config, Place};
use crate::domain::{Email, Location, ProviderKind};
use crate::ports::clock::{OffsetClock, UlidGen};
use crate::ports::{FileError, FileMeta, FilePage, Files};
use crate::services::checkout::{self, CheckoutRequest, Outcome};
use crate::services::items::from_item;
use crate::services::model::FileRecord;
use crate::services::{catalog, keys, reconcile, refunds, restock, webhooks};

/// Files whose first move out of unused/ (once armed) waits for `release`.
struct Gated {
    inner: DirFiles,
    armed: AtomicBool,
    paused: Notify,
    release: Notify,
}

#[async_trait]
impl Files for Gated {
    async fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> Result<FilePage, FileError> {
        self.inner.list(prefix, start_after, limit).await
    }
    async fn move_file(&self, from: &str, to: &str) -> Result<(), FileError> {
        if from.starts_with("unused/") && self.armed.swap(false, Ordering::SeqCst) {
            self.paused.notify_one();
            self.release.notified().await;
        }
        self.inner.move_file(from, to).await
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<(), FileError> {
        self.inner.put(key, bytes, if_absent).await
    }
    async fn head(&self, key: &str) -> Result<Option<FileMeta>, FileError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_stalled_duplicate_run_does_not_move_a_refunded_file_back_to_the_buyer() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let files = Arc::new(Gated {
        inner: b.files,
        armed: AtomicBool::new(false),
        paused: Notify::new(),
        release: Notify::new(),
    });
    let cfg = Config::from_lookup(Place::Local, |_| None).unwrap();
    let ctx = Arc::new(Ctx::new(
        Arc::new(b.records),
        files.clone(),
        Arc::new(b.fulfil),
        Arc::new(b.events),
        Arc::new(SandboxGateway { public_url: "http://127.0.0.1".into() }),
        clock,
        Arc::new(UlidGen),
        crate::app::settings(&cfg),
    ));
    catalog::seed(&ctx).await.unwrap();
    let product = catalog::get(&ctx, "bronze").await.unwrap().unwrap();
    for i in 0..product.files {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await.unwrap();
    }
    restock::adopt_new_files(&ctx, "test").await.unwrap();
    let req = CheckoutRequest {
        email: Email::parse("buyer@example.com").unwrap(),
        product_id: "bronze".into(),
        provider: ProviderKind::Nowpayments,
        pay_currency: None,
        new: false,
        client_ip: None,
        for_subscription: None,
        credits_proof: None,
    };
    let Outcome::Created(order) = checkout::checkout(&ctx, req, None).await.unwrap() else { panic!("not created") };
    let price = product.price.to_decimal().normalize().to_string();
    let body = format!(
        r#"{{"payment_id":{},"payment_status":"finished","order_id":"{}","price_amount":{price},"price_currency":"usd","pay_amount":{price},"actually_paid":{price},"pay_currency":"usdttrc20"}}"#,
        order.payment.payment_id, order.order_id
    );
    webhooks::ingest(&ctx, &crate::providers::nowpayments::parse(body.as_bytes()).unwrap()).await.unwrap();
    let id = order.order_id.clone();
    let user = crate::domain::UserId::for_email(&Email::parse("buyer@example.com").unwrap()).as_str().to_string();

    // Run one claims and stalls before its first move.
    files.armed.store(true, Ordering::SeqCst);
    let stalled = tokio::spawn({
        let (ctx, id) = (ctx.clone(), id.clone());
        async move { fulfil(&ctx, &id).await }
    });
    files.paused.notified().await;
    // Run two (a redelivery) fulfils it; then the order is refunded.
    assert!(matches!(fulfil(&ctx, &id).await.unwrap(), FulfilOutcome::Fulfilled { .. }));
    refunds::refund_order(&ctx, &id, "staff").await.unwrap();
    // Run one wakes up and makes its move, late.
    files.release.notify_one();
    let late = stalled.await.unwrap().unwrap();
    assert!(!matches!(late, FulfilOutcome::Fulfilled { .. }), "{late:?}");

    for i in 0..product.files {
        let name = format!("f{i}.session");
        let rec: FileRecord = from_item(ctx.records.get(&keys::file(&name)).await.unwrap().unwrap()).unwrap();
        assert_eq!(rec.location, Location::Unused, "{name}");
        assert!(ctx.files.head(&format!("unused/{name}")).await.unwrap().is_some(), "{name} is back in stock");
        let under_buyer = format!("assigned/{}/{name}", user);
        assert!(ctx.files.head(&under_buyer).await.unwrap().is_none(), "{name} left under the buyer");
    }
    let report = reconcile::run(&ctx, "test").await.unwrap();
    assert_eq!(report.lost, 0, "{report:?}");
    assert!(report.invariants.ok(), "{:?}", report.invariants);
}
