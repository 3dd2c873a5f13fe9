//! Each check catches a violation planted behind the services' backs.

use serde_json::{Value, json};

use super::{Invariant, check, check_full};
use crate::domain::Timestamp;
use crate::ports::records::{GSI1PK, GSI1SK};
use crate::ports::{Change, Item, Key};
use crate::services::items::value;

fn to_json(t: &Timestamp) -> serde_json::Value {
    value(t).expect("a timestamp serialises")
}
use crate::services::jobs::StepReport;
use crate::services::{Ctx, credits, keys, reconcile};
use crate::testkit::stack::embedded_ctx;

async fn ctx_with_stock(dir: &std::path::Path, n: usize) -> Ctx {
    let ctx = embedded_ctx(dir);
    for i in 0..n {
        ctx.files.put(&format!("unused/f{i}.session"), b"x".to_vec(), true).await.unwrap();
    }
    reconcile::run(&ctx, "test").await.all_ok().unwrap();
    ctx
}

/// The invariants the check found broken (it must be conclusive).
async fn broken(ctx: &Ctx) -> Vec<Invariant> {
    let r = check(ctx).await.unwrap();
    assert!(r.settled, "{r:?}");
    let mut v: Vec<Invariant> = r.violations.iter().map(|v| v.invariant).collect();
    v.dedup();
    v
}

fn item(key: &Key, mut v: Value, gsi: Option<(&str, &str)>) -> Item {
    v["pk"] = key.pk.clone().into();
    v["sk"] = key.sk.clone().into();
    if let Some((p, s)) = gsi {
        v[GSI1PK] = p.into();
        v[GSI1SK] = s.into();
    }
    v.as_object().cloned().unwrap()
}

#[tokio::test]
async fn a_clean_store_passes_and_a_file_moved_behind_its_back_fails() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 3).await;
    let r = check(&ctx).await.unwrap();
    assert!(r.ok() && r.settled, "{r:?}");
    assert_eq!((r.files_listed, r.file_records, r.ledger_entries), (3, 3, 3));
    ctx.files.move_file("unused/f0.session", "banned/f0.session").await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::Conservation, Invariant::NoOversell]);
    // Reconcile repairs it, and the checker agrees.
    reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(broken(&ctx).await, []);
}

#[tokio::test]
async fn a_file_with_no_record_or_a_copy_fails() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 2).await;
    ctx.files.put("frozen/f1.session", b"x".to_vec(), true).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::Conservation, Invariant::NoOversell]);
    ctx.files.delete("frozen/f1.session").await.unwrap();
    ctx.files.put("assigned/u9/new.session", b"x".to_vec(), true).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::Conservation, Invariant::NoOversell]);
}

#[tokio::test]
async fn two_subscriptions_with_one_file_fail() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 2).await;
    for id in ["S1", "S2"] {
        let sub = json!({"subscription_id": id, "order_id": "o", "user_id": "u1", "email": "a@example.com",
            "product_id": "p", "files": ["f0.session"], "interval_seconds": 60,
            "valid_until": to_json(&Timestamp(1)), "created_at": to_json(&Timestamp(0))});
        let it = item(&keys::subscription(id), sub, Some((keys::SUBS_INDEX, id)));
        ctx.records.put(it, None).await.unwrap();
    }
    let r = check(&ctx).await.unwrap();
    let owner: Vec<&str> =
        r.violations.iter().filter(|v| v.invariant == Invariant::OneOwner).map(|v| v.detail.as_str()).collect();
    assert!(owner.iter().any(|d| d.contains("in subscriptions S1 and S2")), "{r:?}");
    assert!(owner.iter().any(|d| d.contains("not at assigned/u1/f0.session")), "{r:?}");
}

#[tokio::test]
async fn counters_holds_and_the_ledger_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 2).await;
    // A hold nobody counted.
    let hold = json!({"order_id": "o1", "count": 1, "expires_at": to_json(&Timestamp(5))});
    let it = item(&keys::hold("o1"), hold, Some((keys::HOLDS_INDEX, "x")));
    ctx.records.put(it, None).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::NoOversell]);
    ctx.records.delete(&keys::hold("o1"), None).await.unwrap();
    // A ledger line lost: a gap, and the replay no longer ends at the counters.
    ctx.records.delete(&keys::ledger(1, 1), None).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::Ledger]);
    // Counters edited by hand disagree with listings, records and ledger.
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 2).await;
    ctx.records.update(&keys::stock_counts(), vec![Change::Set("unused".into(), 7.into())], None).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::NoOversell, Invariant::Ledger]);
}

#[tokio::test]
async fn credit_accounts_must_equal_their_entries() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 0).await;
    let body = credits::GiftBody { email: "c@example.com".into(), amount: 5, reason: "thanks".into() };
    credits::gift(&ctx, body, "staff").await.unwrap();
    let r = check(&ctx).await.unwrap();
    assert!(r.ok() && r.credit_accounts == 1, "{r:?}");
    let user = crate::domain::UserId::for_email(&crate::domain::Email::parse("c@example.com").unwrap());
    let key = keys::credit_account(user.as_str());
    ctx.records.update(&key, vec![Change::Add("posted".into(), 3)], None).await.unwrap();
    assert_eq!(broken(&ctx).await, [Invariant::Credits]);
}

fn order(id: &str, status: &str, at: Timestamp) -> Item {
    let o = json!({"order_id": id, "email": "b@example.com", "user_id": "u1", "product_id": "p", "files": 1,
        "interval_seconds": 60, "validity_days": 30, "price": {"amount": 500, "currency": "usd"},
        "provider": "stripe", "status": status, "created_at": to_json(&at), "updated_at": to_json(&at),
        "reserved_until": to_json(&at)});
    let index = keys::orders_by_status(crate::domain::OrderStatus::parse(status).unwrap());
    item(&keys::order(id), o, Some((&index, &keys::sort_at(at, id))))
}

#[tokio::test]
async fn a_paid_order_left_alone_or_fulfilled_into_nothing_fails() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 0).await;
    let now = ctx.clock.now();
    // Paid just now: the worker still has time.
    ctx.records.put(order("o1", "paid", now), None).await.unwrap();
    assert_eq!(broken(&ctx).await, []);
    let old = now.plus_millis(-ctx.settings.requeue_after_millis - 1000);
    ctx.records.put(order("o2", "paid", old), None).await.unwrap();
    ctx.records.put(order("o3", "fulfilled", now), None).await.unwrap();
    let r = check(&ctx).await.unwrap();
    let found: Vec<&str> = r.violations.iter().map(|v| v.detail.as_str()).collect();
    assert_eq!(r.violations.len(), 2, "{r:?}");
    assert!(found[0].contains("o2") && found[1].contains("o3"), "{r:?}");
}

async fn zero_commit(ctx: &Ctx) {
    let entry = crate::services::stock::StockEntry {
        kind: crate::domain::LedgerKind::Reconcile,
        file: None,
        change: crate::domain::StockCounts::default(),
        reason: "nothing moved".into(),
        reference: "test".into(),
        actor: "test".into(),
    };
    let mut tx: crate::services::tx::Tx<()> = crate::services::tx::Tx::new();
    tx.stock(entry);
    assert!(tx.commit(ctx).await.unwrap().is_done());
}

#[tokio::test]
async fn the_replay_starts_at_the_checkpoint_and_still_catches_a_forged_entry_after_it() {
    let dir = tempfile::tempdir().unwrap();
    // Reconcile adopted three files (entries 1.000-1.002) and kept a checkpoint.
    let ctx = ctx_with_stock(dir.path(), 3).await;
    let r = check(&ctx).await.unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!((r.ledger_from.as_deref(), r.ledger_read, r.ledger_entries), (Some("000000000001.002"), 0, 3));
    // What the checkpoint trusts: an entry before it edited is not looked at
    // again, though a full replay still finds it.
    let early = vec![Change::Set("before".into(), 5.into())];
    ctx.records.update(&keys::ledger(1, 0), early, None).await.unwrap();
    assert!(check(&ctx).await.unwrap().ok());
    assert_eq!(check_full(&ctx).await.unwrap().violations[0].invariant, Invariant::Ledger);
    // Entries after it are replayed from the checkpoint's counts.
    zero_commit(&ctx).await;
    let r = check(&ctx).await.unwrap();
    assert!(r.ok() && r.ledger_read == 1 && r.ledger_entries == 4, "{r:?}");
    let forged = vec![Change::Set(
        "counts".into(),
        json!({"unused": 9, "reserved": 0, "assigned": 0,
        "banned": 0, "frozen": 0}),
    )];
    ctx.records.update(&keys::ledger(2, 0), forged, None).await.unwrap();
    let r = check(&ctx).await.unwrap();
    assert_eq!(r.ledger_from.as_deref(), Some("000000000001.002"), "{r:?}");
    assert_eq!(broken(&ctx).await, [Invariant::Ledger]);
    // A broken replay earns no checkpoint: reconcile does not move it on.
    reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(check(&ctx).await.unwrap().ledger_from.as_deref(), Some("000000000001.002"));
}

#[tokio::test]
async fn a_checkpoint_from_another_ledger_state_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with_stock(dir.path(), 3).await;
    zero_commit(&ctx).await;
    reconcile::run(&ctx, "test").await.all_ok().unwrap();
    assert_eq!(check(&ctx).await.unwrap().ledger_from.as_deref(), Some("000000000002.000"));
    let early = vec![Change::Set("before".into(), 5.into())];
    ctx.records.update(&keys::ledger(1, 0), early, None).await.unwrap();
    // The anchor entry is no longer what the checkpoint saw (a rebuilt ledger).
    let anchor = keys::ledger(2, 0);
    let stored = ctx.records.get(&anchor).await.unwrap().unwrap();
    ctx.records.update(&anchor, vec![Change::Set("reason".into(), "other".into())], None).await.unwrap();
    let r = check(&ctx).await.unwrap();
    assert_eq!((r.ledger_from.as_deref(), r.ledger_read), (None, 4), "{r:?}");
    assert_eq!(broken(&ctx).await, [Invariant::Ledger]);
    // Nor is one ahead of the counters (a store restored from an older backup).
    ctx.records.put(stored, None).await.unwrap();
    assert_eq!(check(&ctx).await.unwrap().ledger_from.as_deref(), Some("000000000002.000"));
    let behind = vec![Change::Set("version".into(), 1.into())];
    ctx.records.update(&keys::stock_counts(), behind, None).await.unwrap();
    let r = check(&ctx).await.unwrap();
    assert_eq!((r.ledger_from.as_deref(), r.ledger_read), (None, 4), "{r:?}");
}

/// A walk handed over from before stock moved (reconcile's, say) is not
/// trusted: judged alone it is wrong, and the check walks again instead.
#[tokio::test]
async fn a_walk_from_before_stock_moved_is_walked_again() {
    use super::{Walked, check_and_checkpoint, files};
    use crate::services::fulfil::{FulfilOutcome, fulfil};
    use crate::services::stock::read_counts;

    let dir = tempfile::tempdir().unwrap();
    let ctx = embedded_ctx(dir.path());
    let order = crate::testkit::stack::paid_order(&ctx, "silver").await;
    reconcile::run(&ctx, "test").await.all_ok().unwrap();
    let stale =
        || async { Walked { counts: read_counts(&ctx).await.unwrap(), walk: files::walk(&ctx).await.unwrap() } };
    let (first, second) = (stale().await, stale().await);
    assert!(matches!(fulfil(&ctx, &order).await.unwrap(), FulfilOutcome::Fulfilled { .. }));

    // Judged as it is, the old walk sees the buyer's files where stock was.
    let mut alone = super::InvariantReport::default();
    let (seen, _) = first.walk.conclude(&ctx, &mut alone).await.unwrap();
    assert!(!alone.ok(), "the stale walk must disagree with the records: {alone:?}");
    assert_ne!(seen.listed, seen.records);

    let r = check_and_checkpoint(&ctx, Some(second)).await.unwrap();
    assert!(r.ok() && r.settled, "{r:?}");
    let fresh = check(&ctx).await.unwrap();
    assert_eq!((r.files_listed, r.file_records), (fresh.files_listed, fresh.file_records));
    assert_eq!(r.file_records, 2);
}
