//! A renamed field without its write fails here: every attribute the
//! order's writes set is a field of the serialised record.

use super::*;
use crate::domain::{Money, ProviderKind};

fn order() -> OrderRecord {
    let t = Timestamp::from_secs(1_700_000_000);
    OrderRecord {
        order_id: "o1".into(),
        email: "a@b.c".into(),
        user_id: "u1".into(),
        product_id: "bronze".into(),
        files: 1,
        interval_seconds: 3600,
        validity_days: 30,
        price: Money::new(3000, crate::domain::Currency::usd()),
        provider: ProviderKind::Stripe,
        status: OrderStatus::Pending,
        created_at: t,
        updated_at: t,
        reserved_until: t,
        paid_at: Some(t),
        missing: Some("1".into()),
        received: Some("2".into()),
        overpaid: Some("3".into()),
        subscription_id: Some("So1".into()),
        provider_status: Some("x".into()),
        limit_keys: Vec::new(),
        open_pointer: None,
        purpose: Purpose::New,
        for_subscription: None,
        credits: 0,
        credits_minor: 0,
        refunded_by: Some("ann".into()),
        refund_method: Some("stripe".into()),
        refund_id: Some("re_1".into()),
        credits_deactivated_by: Some("ann".into()),
    }
}

/// Every fact a move can record, each different from `order()`'s.
fn every_fact() -> Facts {
    Facts {
        paid_at: Some(Timestamp::from_secs(1_800_000_000)),
        provider_status: Some("p".into()),
        missing: Some("m".into()),
        received: Some("r".into()),
        overpaid: Some("o".into()),
        subscription_id: Some("s".into()),
        refunded_by: Some("b".into()),
        refund_method: Some("by_hand".into()),
        refund_id: Some("re_2".into()),
    }
}

fn set_names(w: &Write) -> Vec<String> {
    let Write::Update { changes, .. } = w else { panic!("an update") };
    changes
        .iter()
        .map(|c| match c {
            Change::Set(n, _) | Change::Remove(n) | Change::Add(n, _) => n.clone(),
        })
        .collect()
}

#[test]
fn a_status_move_touches_only_fields_the_record_has() {
    let o = order();
    let Write::Put { item, .. } = put_new(&o).unwrap() else { panic!("a put") };
    let back: OrderRecord = from_item(item.clone()).unwrap();
    assert_eq!(back.order_id, o.order_id);
    let facts = Facts { paid_at: o.paid_at, ..every_fact() };
    let w = moved("o1", OrderStatus::Pending, OrderStatus::Paid, o.updated_at, &facts).unwrap();
    for name in set_names(&w) {
        assert!(item.contains_key(&name), "the order has no attribute {name}");
    }
    for name in set_names(&credits_deactivated("o1", "ann")) {
        assert!(item.contains_key(&name), "the order has no attribute {name}");
    }
    let Write::Update { cond, .. } = &w else { unreachable!() };
    assert_eq!(cond.as_ref(), Some(&Cond::Eq("status".into(), item["status"].clone())));
}

#[test]
fn invoice_writes_touch_only_fields_the_payment_has() {
    let p = PaymentRecord {
        order_id: "o1".into(),
        provider: ProviderKind::Nowpayments,
        payment_id: Some("1".into()),
        pay_address: Some("a".into()),
        pay_amount: Some("1".into()),
        pay_currency: Some("btc".into()),
        checkout_url: Some("u".into()),
        pay_currency_requested: None,
    };
    let Write::Put { item, .. } = put_payment(&p).unwrap() else { panic!("a put") };
    let inv = crate::ports::Invoice {
        provider: ProviderKind::Nowpayments,
        payment_id: "1".into(),
        pay_address: None,
        pay_amount: None,
        pay_currency: None,
        checkout_url: None,
    };
    let invoice = Write::Update { key: payment_key("o1"), changes: invoice_changes(&inv).unwrap(), cond: None };
    for w in [invoice, paid_by_credits("o1")] {
        for name in set_names(&w) {
            assert!(item.contains_key(&name), "the payment has no attribute {name}");
        }
    }
    let back: PaymentRecord = from_item(item).unwrap();
    assert_eq!(back.pay_currency.as_deref(), Some("btc"));
}

#[test]
fn holds_and_claims_round_trip() {
    let t = Timestamp::from_secs(1_700_000_000);
    let h = HoldRecord { order_id: "o1".into(), count: 2, expires_at: t };
    let Write::Put { item, .. } = put_hold(&h).unwrap() else { panic!("a put") };
    assert_eq!(from_item::<HoldRecord>(item).unwrap().count, 2);
    let i = IntentRecord {
        order_id: "o1".into(),
        user_id: "u".into(),
        files: vec!["f".into()],
        created_at: t,
        done: false,
    };
    let Write::Put { item, .. } = put_intent(&i).unwrap() else { panic!("a put") };
    for name in set_names(&intent_done("o1")) {
        if !name.starts_with("gsi1") {
            assert!(item.contains_key(&name), "the claim has no attribute {name}");
        }
    }
}

/// `apply_moved` (the order handed on in memory) and `moved` (the write)
/// must agree, or fulfilment works from an order the store does not hold.
#[test]
fn a_move_applied_in_memory_matches_the_write() {
    let tos = [OrderStatus::Paid, OrderStatus::PartiallyPaid, OrderStatus::Refunded, OrderStatus::Expired];
    for (facts, to) in [Facts::default(), every_fact()].iter().flat_map(|f| tos.map(|to| (f, to))) {
        let mut o = order();
        o.paid_at = None;
        let Write::Put { mut item, .. } = put_new(&o).unwrap() else { panic!("a put") };
        let Write::Update { changes, .. } = moved("o1", o.status, to, o.updated_at, facts).unwrap() else {
            panic!("an update")
        };
        for c in changes {
            match c {
                Change::Set(n, v) => {
                    item.insert(n, v);
                }
                Change::Remove(n) => {
                    item.remove(&n);
                }
                Change::Add(n, _) => panic!("a move adds to no number ({n})"),
            }
        }
        let stored: OrderRecord = from_item(item).unwrap();
        apply_moved(&mut o, to, facts);
        let json = |r: &OrderRecord| serde_json::to_value(r).unwrap();
        assert_eq!(json(&o), json(&stored), "to {to:?} with {facts:?}");
    }
}
