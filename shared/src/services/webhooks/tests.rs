//! Which payment moves an order (only its own), and a refund that arrives
//! before its payment: refunded in any order of delivery, duplicated or at
//! once, the payment after it refused.

use super::*;
use crate::providers::{nowpayments, stripe};
use crate::services::checkout::{self, Outcome};
use crate::services::fulfil::{FulfilOutcome, fulfil};
use crate::services::store::{outbox, subscriptions};
use crate::services::{catalog, restock};
use crate::testkit::join_all;
use crate::testkit::stack::{checkout_request, embedded_ctx, paid_order};

/// A NOWPayments IPN for a bronze order ($30), `parent` set for a repeated deposit.
fn ipn(order: &str, payment: &str, parent: Option<&str>, status: &str) -> PaymentEvent {
    let parent = parent.unwrap_or("null");
    let body = format!(
        r#"{{"payment_id":{payment},"parent_payment_id":{parent},"payment_status":"{status}","order_id":"{order}","price_amount":30,"price_currency":"usd","pay_amount":30,"actually_paid":30,"pay_currency":"usdttrc20"}}"#
    );
    nowpayments::parse(body.as_bytes()).expect("a valid IPN")
}

/// A Stripe event about checkout session `session` of a bronze order.
fn session(id: &str, kind: &str, order: &str, session: &str) -> PaymentEvent {
    let body = format!(
        r#"{{"id":"{id}","type":"{kind}","data":{{"object":{{"id":"{session}","client_reference_id":"{order}","amount_total":3000,"currency":"usd","payment_status":"paid"}}}}}}"#
    );
    stripe::parse(body.as_bytes()).expect("a valid event")
}

/// Stripe's `charge.refunded` for a whole bronze order (it names the payment intent).
fn charge_refunded(id: &str, order: &str) -> PaymentEvent {
    let body = format!(
        r#"{{"id":"{id}","type":"charge.refunded","data":{{"object":{{"id":"ch_{order}","amount":3000,"amount_refunded":3000,"refunded":true,"currency":"usd","payment_intent":"pi_{order}","metadata":{{"order_id":"{order}"}}}}}}}}"#
    );
    stripe::parse(body.as_bytes()).expect("a valid event")
}

/// An open bronze order through `provider`, with stock for it: (order id, payment id).
async fn open_order(ctx: &Ctx, provider: ProviderKind) -> (String, String) {
    catalog::seed(ctx).await.unwrap();
    let n = ulid::Ulid::new().to_string().to_ascii_lowercase();
    ctx.files.put(&format!("unused/open{n}.session"), b"x".to_vec(), true).await.unwrap();
    restock::adopt_new_files(ctx, "test").await.unwrap();
    let mut req = checkout_request(&format!("open{n}@example.com"), "bronze");
    req.provider = provider;
    let Ok(Outcome::Created(order)) = checkout::checkout(ctx, req, None).await else { panic!("checkout refused") };
    (order.order_id, order.payment.payment_id)
}

/// A fulfilled bronze order: (order id, its payment id, subscription id).
async fn fulfilled(ctx: &Ctx) -> (String, String, String) {
    let order = paid_order(ctx, "bronze").await;
    let FulfilOutcome::Fulfilled { subscription_id, .. } = fulfil(ctx, &order).await.unwrap() else {
        panic!("not fulfilled")
    };
    let payment = orders::payment(ctx, &order).await.unwrap().unwrap().payment_id.unwrap();
    (order, payment, subscription_id)
}

async fn status(ctx: &Ctx, order: &str) -> OrderStatus {
    orders::get(ctx, order).await.unwrap().unwrap().status
}

/// The events of `kind` recorded so far.
async fn events(ctx: &Ctx, kind: &str) -> Vec<serde_json::Value> {
    let all = outbox::pending(ctx, 1000).read_all().await.unwrap();
    all.into_iter().filter(|e| e.kind == kind).map(|e| e.data).collect()
}

async fn order_events(ctx: &Ctx, kind: &str, order: &str) -> usize {
    events(ctx, kind).await.iter().filter(|d| d["order_id"] == order).count()
}

fn unmoved(effect: &Effect) -> bool {
    matches!(effect, Effect::NoChange(_) | Effect::Duplicate)
}

#[tokio::test]
async fn a_repeated_deposit_never_moves_the_fulfilled_order_whatever_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let (order, p1, sub) = fulfilled(&ctx).await;
    let statuses = ["refunded", "failed", "expired", "cancelled", "partially_paid", "confirming", "finished"];
    for st in statuses {
        for _ in 0..2 {
            let effect = ingest(&ctx, &ipn(&order, "6000001", Some(&p1), st)).await.unwrap();
            assert!(unmoved(&effect), "{st}: {effect:?}");
        }
        assert_eq!(status(&ctx, &order).await, OrderStatus::Fulfilled, "{st}");
    }
    let s = subscriptions::get(&ctx, &sub).await.unwrap().unwrap();
    assert_eq!(s.ended, None, "the subscription stands");
    // Money that arrived or left beside the order: one alert each, however
    // often delivered.
    let alerts = events(&ctx, "ops.alert").await;
    let said: Vec<&str> = alerts.iter().filter_map(|a| a["details"]["status"].as_str()).collect();
    assert_eq!(said, ["refunded", "partially_paid", "finished"], "{alerts:?}");
    assert!(alerts.iter().all(|a| a["kind"] == "payment_outside_order" && a["details"]["order_id"] == order));
    assert_eq!(order_events(&ctx, "order.refunded", &order).await, 0);
}

#[tokio::test]
async fn a_repeated_deposit_never_fails_or_expires_an_open_order() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let (order, p1) = open_order(&ctx, ProviderKind::Nowpayments).await;
    for st in ["failed", "expired", "cancelled", "refunded", "partially_paid", "finished"] {
        let effect = ingest(&ctx, &ipn(&order, "6000002", Some(&p1), st)).await.unwrap();
        assert!(unmoved(&effect), "{st}: {effect:?}");
    }
    let b = orders::load(&ctx, &order).await.unwrap().unwrap();
    assert_eq!(b.order.status, OrderStatus::Pending);
    assert!(b.hold.is_some(), "the hold stands");
    // The order's own payment still pays it.
    let effect = ingest(&ctx, &ipn(&order, &p1, None, "finished")).await.unwrap();
    assert_eq!(effect, Effect::Moved { from: OrderStatus::Pending, to: OrderStatus::Paid });
}

#[tokio::test]
async fn a_payment_other_than_the_one_checkout_stored_never_moves_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let (order, _, sub) = fulfilled(&ctx).await;
    for st in ["refunded", "failed", "expired"] {
        let effect = ingest(&ctx, &ipn(&order, "7000001", None, st)).await.unwrap();
        assert!(unmoved(&effect), "{st}: {effect:?}");
    }
    assert_eq!(status(&ctx, &order).await, OrderStatus::Fulfilled);
    assert_eq!(subscriptions::get(&ctx, &sub).await.unwrap().unwrap().ended, None);

    let (open, _) = open_order(&ctx, ProviderKind::Nowpayments).await;
    for st in ["failed", "expired", "finished", "refunded"] {
        assert!(unmoved(&ingest(&ctx, &ipn(&open, "7000002", None, st)).await.unwrap()), "{st}");
    }
    assert_eq!(status(&ctx, &open).await, OrderStatus::Pending);

    // Stripe: another session, or another provider, moves nothing.
    let (card, own) = open_order(&ctx, ProviderKind::Stripe).await;
    let other = session("evt_other", "checkout.session.completed", &card, "cs_test_someone_else");
    assert!(unmoved(&ingest(&ctx, &other).await.unwrap()));
    assert!(unmoved(&ingest(&ctx, &charge_refunded("evt_np", &open)).await.unwrap()), "a card refund, a crypto order");
    assert_eq!(status(&ctx, &card).await, OrderStatus::Pending);
    assert_eq!(status(&ctx, &open).await, OrderStatus::Pending);
    // Its own session pays it; its charge's refund (no session id) refunds it.
    let paid = ingest(&ctx, &session("evt_own", "checkout.session.completed", &card, &own)).await.unwrap();
    assert_eq!(paid, Effect::Moved { from: OrderStatus::Pending, to: OrderStatus::Paid });
    let refunded = ingest(&ctx, &charge_refunded("evt_refund", &card)).await.unwrap();
    assert_eq!(refunded, Effect::Moved { from: OrderStatus::Paid, to: OrderStatus::Refunded });
}

/// One order's refund and payment events, delivered as `deliveries` says
/// (indexes into [refund, payment]); then the same all at once on a fresh
/// order.
async fn refund_first(provider: ProviderKind, deliveries: &[usize]) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let (order, payment) = open_order(&ctx, provider).await;
    let (refund, paid) = match provider {
        ProviderKind::Nowpayments => (ipn(&order, &payment, None, "refunded"), ipn(&order, &payment, None, "finished")),
        ProviderKind::Stripe => {
            (charge_refunded("evt_r", &order), session("evt_p", "checkout.session.completed", &order, &payment))
        }
    };
    let both = [refund, paid];
    for i in deliveries {
        ingest(&ctx, &both[*i]).await.unwrap();
    }
    let why = format!("{provider} {deliveries:?}");
    let b = orders::load(&ctx, &order).await.unwrap().unwrap();
    assert_eq!(b.order.status, OrderStatus::Refunded, "{why}");
    assert!(b.hold.is_none(), "{why}: the hold is released");
    assert_eq!(order_events(&ctx, "order.refunded", &order).await, 1, "{why}");
    let paid_first = deliveries.first() == Some(&1);
    assert_eq!(order_events(&ctx, "order.paid", &order).await, usize::from(paid_first), "{why}");
    // Nothing is handed out for a refunded order.
    let handed = fulfil(&ctx, &order).await.unwrap();
    assert!(matches!(handed, FulfilOutcome::NotPaid(OrderStatus::Refunded)), "{why}: {handed:?}");

    // All at once, each twice.
    let (order, payment) = open_order(&ctx, provider).await;
    let evs = match provider {
        ProviderKind::Nowpayments => [ipn(&order, &payment, None, "refunded"), ipn(&order, &payment, None, "finished")],
        ProviderKind::Stripe => {
            [charge_refunded("evt_r2", &order), session("evt_p2", "checkout.session.completed", &order, &payment)]
        }
    };
    let all: Vec<_> = deliveries.iter().map(|i| ingest(&ctx, &evs[*i])).collect();
    for r in join_all(all).await {
        r.unwrap();
    }
    assert_eq!(status(&ctx, &order).await, OrderStatus::Refunded, "{why} at once");
    assert_eq!(order_events(&ctx, "order.refunded", &order).await, 1, "{why} at once");
}

#[tokio::test]
async fn a_refund_before_its_payment_ends_refunded_in_any_order_duplicated() {
    for provider in [ProviderKind::Nowpayments, ProviderKind::Stripe] {
        refund_first(provider, &[0, 0, 1, 1]).await;
        refund_first(provider, &[1, 1, 0, 0]).await;
        refund_first(provider, &[0, 1, 0, 1]).await;
    }
}

#[tokio::test]
async fn a_refund_while_confirming_ends_refunded_and_a_late_finished_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let (order, payment) = open_order(&ctx, ProviderKind::Nowpayments).await;
    ingest(&ctx, &ipn(&order, &payment, None, "confirming")).await.unwrap();
    let refunded = ingest(&ctx, &ipn(&order, &payment, None, "refunded")).await.unwrap();
    assert_eq!(refunded, Effect::Moved { from: OrderStatus::Confirming, to: OrderStatus::Refunded });
    let late = ingest(&ctx, &ipn(&order, &payment, None, "finished")).await.unwrap();
    assert!(matches!(late, Effect::NoChange(_)), "{late:?}");
    assert_eq!(status(&ctx, &order).await, OrderStatus::Refunded);
}
