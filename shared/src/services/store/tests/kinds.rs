use super::*;
use crate::domain::{LedgerKind, StockCounts, Timestamp};
use crate::services::store::stock::{self as book, LedgerCheckpoint, LedgerEntry};

#[tokio::test]
async fn stock_counters_ledger_and_checkpoint_round_trip() {
    let (_d, ctx) = ctx();
    let counts = StockCounts { unused: 3, reserved: 1, assigned: 2, banned: 1, frozen: 0 };
    let entry = LedgerEntry {
        id: format!("L{}", book::seq(1, 0)),
        seq: book::seq(1, 0),
        at: Timestamp(5),
        kind: LedgerKind::Restock,
        file: Some("a.session".into()),
        delta: 2,
        before: 0,
        after: 2,
        counts,
        reason: "r".into(),
        reference: "x".into(),
        actor: "t".into(),
    };
    let writes = vec![book::put_entry(&entry).unwrap(), book::set_counts(&counts, 1, 0)];
    run(&ctx, writes).await;
    let read = book::counts(&ctx).await.unwrap();
    assert_eq!((read.counts, read.version), (counts, 1));
    assert_eq!(book::entry(&ctx, 1, 0).await.unwrap(), Some(entry.clone()));
    assert_eq!(book::entries(&ctx, None, 10).read_all().await.unwrap(), vec![entry.clone()]);
    assert!(book::entries(&ctx, Some((1, 0)), 10).read_all().await.unwrap().is_empty());
    let cp = LedgerCheckpoint { version: 1, entries: 1, anchor: entry };
    let save = book::save_checkpoint(&cp).unwrap();
    run(&ctx, vec![save.clone()]).await;
    assert_eq!(book::checkpoint(&ctx).await.unwrap(), Some(cp.clone()));
    fields_exist(&read, &[book::set_counts(&counts, 2, 1)]);
    fields_exist(&cp, &[save]);
}

#[tokio::test]
async fn credit_accounts_transfers_and_entries_round_trip() {
    use crate::domain::{Direction, EntryKind, TransferState, effect};
    use crate::services::store::credits::{self as store, EntryRecord, TransferRecord};
    let (_d, ctx) = ctx();
    let t = TransferRecord {
        id: "E1".into(),
        user_id: "u1".into(),
        email: "a@b.c".into(),
        origin: EntryKind::Earn,
        dir: Direction::In,
        amount: 5,
        state: TransferState::Pending,
        reversed: false,
        order_id: Some("o1".into()),
        reason: "r".into(),
        actor: "t".into(),
        created_at: Timestamp(1),
        due_at: Some(Timestamp(2)),
    };
    let e = EntryRecord {
        id: "E1.earn".into(),
        transfer_id: "E1".into(),
        kind: EntryKind::Earn,
        amount: 5,
        posted: 0,
        pending_in: 5,
        pending_out: 0,
        reference: "o1".into(),
        reason: "r".into(),
        at: Timestamp(1),
        actor: "t".into(),
    };
    let book = store::book(&t, &effect(EntryKind::Earn, Direction::In, 5), Some(0));
    run(&ctx, vec![store::put_transfer(&t).unwrap(), store::put_entry("u1", &e).unwrap()]).await;
    run(&ctx, vec![store::book(&t, &effect(EntryKind::Earn, Direction::In, 5), None)]).await;
    let back = store::transfer(&ctx, "E1").await.unwrap().unwrap();
    assert_eq!((back.id.as_str(), back.state, back.due_at), ("E1", TransferState::Pending, Some(Timestamp(2))));
    assert_eq!(store::due(&ctx, Timestamp(2)).read_all().await.unwrap().len(), 1);
    assert!(store::due(&ctx, Timestamp(1)).read_all().await.unwrap().is_empty());
    let account = store::account(&ctx, "u1").await.unwrap().unwrap();
    assert_eq!((account.pending_in, account.version, account.email.as_str()), (5, 1, "a@b.c"));
    assert_eq!(store::accounts(&ctx, 10).read_all().await.unwrap().len(), 1);
    let entries = store::entries(&ctx, "u1").read_all().await.unwrap();
    assert_eq!((entries.len(), entries[0].id.as_str()), (1, "E1.earn"));
    let settle = store::move_transfer(&t, TransferState::Posted, false).unwrap();
    run(&ctx, vec![settle.clone()]).await;
    assert!(store::due(&ctx, Timestamp(2)).read_all().await.unwrap().is_empty(), "settled leaves the due index");
    fields_exist(&t, &[settle]);
    fields_exist(&account, &[book]);
}

fn subscription() -> crate::services::store::subscriptions::SubscriptionRecord {
    crate::services::store::subscriptions::SubscriptionRecord {
        subscription_id: "So1".into(),
        order_id: "o1".into(),
        user_id: "u1".into(),
        email: "a@b.c".into(),
        product_id: "p".into(),
        files: vec!["a.session".into(), "b.session".into()],
        interval_seconds: 60,
        valid_until: Timestamp(10),
        created_at: Timestamp(1),
        ended: None,
        grace_noted: false,
        rev: 0,
        flagged: Vec::new(),
        reminded: None,
        replacements: Vec::new(),
    }
}

#[tokio::test]
async fn subscriptions_and_revoke_intents_round_trip() {
    use crate::domain::EndReason;
    use crate::services::store::revokes::{self, RevokeIntent};
    use crate::services::store::subscriptions as subs;
    let (_d, ctx) = ctx();
    let sub = subscription();
    run(&ctx, vec![subs::put(&sub).unwrap()]).await;
    assert_eq!(subs::get(&ctx, "So1").await.unwrap(), Some(sub.clone()));
    assert_eq!(subs::live(&ctx).read_all().await.unwrap(), vec![sub.clone()]);
    assert_eq!(subs::due(&ctx, Timestamp(10)).read_all().await.unwrap().len(), 1);
    assert!(subs::due(&ctx, Timestamp(9)).read_all().await.unwrap().is_empty());
    let flagged = vec!["b.session".to_string()];
    let replaced = vec![subs::Replacement {
        id: "R1".into(),
        file: "b.session".into(),
        new_file: None,
        reported_at: Timestamp(3),
        replaced_at: None,
        by_buyer: true,
    }];
    let writes = vec![
        subs::set_files(&sub, &sub.files).unwrap(),
        subs::replace_files(&sub, &sub.files, &flagged, &replaced).unwrap(),
        subs::set_flagged(&sub, &flagged, &replaced).unwrap(),
        subs::set_valid_until(&sub, Timestamp(20)).unwrap(),
        subs::end(&sub, EndReason::Expired).unwrap(),
        subs::note_grace("So1"),
        subs::check_live("So1"),
        subs::check_not_ended("So1"),
        subs::remind(&sub, 72),
    ];
    let full = subs::SubscriptionRecord {
        ended: Some(EndReason::Expired),
        flagged: flagged.clone(),
        reminded: Some(72),
        replacements: replaced.clone(),
        ..sub.clone()
    };
    fields_exist(&full, &writes);
    run(&ctx, vec![subs::replace_files(&sub, &["c.session".to_string()], &flagged, &replaced).unwrap()]).await;
    let now = subs::get(&ctx, "So1").await.unwrap().unwrap();
    assert_eq!((&now.files, &now.flagged, now.rev), (&vec!["c.session".to_string()], &flagged, 1));
    assert_eq!(now.replacements, replaced);
    let stale = subs::set_flagged(&sub, &[], &[]).unwrap();
    assert!(ctx.records.transact(vec![stale]).await.is_err(), "guarded by the rev read");
    run(&ctx, vec![subs::end(&now, EndReason::Revoked).unwrap()]).await;
    assert!(subs::live(&ctx).read_all().await.unwrap().is_empty(), "an ended subscription leaves the index");

    let intent = RevokeIntent {
        subscription_id: "So1".into(),
        order_id: "o1".into(),
        user_id: "u1".into(),
        email: String::new(),
        files: vec!["c.session".into()],
        reason: EndReason::Revoked,
        actor: "t".into(),
        created_at: Timestamp(3),
        done: false,
        note: Some("n".into()),
    };
    run(&ctx, vec![revokes::put(&intent).unwrap()]).await;
    assert_eq!(revokes::get(&ctx, "So1").await.unwrap(), Some(intent.clone()));
    fields_exist(&intent, &[revokes::done("So1")]);
    run(&ctx, vec![revokes::done("So1")]).await;
    assert!(revokes::get(&ctx, "So1").await.unwrap().unwrap().done);
}

#[tokio::test]
async fn usage_periods_receipts_snapshots_and_seat_intents_round_trip() {
    use crate::domain::usage::{Metric, period_bounds};
    use crate::services::store::seats::{self, SeatIntent};
    use crate::services::store::usage::{self, PeriodRecord, Snapshot};
    let (_d, ctx) = ctx();
    let sub = subscription();
    let (start, end) = period_bounds(sub.created_at, 0);
    let empty = PeriodRecord {
        subscription_id: "So1".into(),
        period: 0,
        start,
        end,
        posts: 0,
        seat_days: 0,
        version: 0,
        closed: false,
        closed_at: None,
    };
    let count = usage::count(&sub, &empty, Metric::Posts, 4).unwrap();
    let seat_days = usage::add_seat_days(&sub, 0, 2).unwrap();
    run(&ctx, vec![count.clone()]).await;
    run(&ctx, vec![seat_days.clone()]).await;
    let p = usage::get(&ctx, "So1", 0).await.unwrap().unwrap();
    assert_eq!(p, PeriodRecord { posts: 4, seat_days: 2, version: 1, ..empty.clone() });
    assert_eq!(usage::due(&ctx, end).read_all().await.unwrap(), vec![p.clone()]);
    assert_eq!(usage::history(&ctx, "So1").read_all().await.unwrap(), vec![p.clone()]);
    let close = usage::close(&p, end).unwrap();
    let open = usage::open(&sub, 1).unwrap();
    run(&ctx, vec![close.clone(), open.clone()]).await;
    assert!(usage::due(&ctx, end).read_all().await.unwrap().is_empty(), "a closed period leaves the index");
    let periods = usage::history(&ctx, "So1").read_all().await.unwrap();
    assert_eq!(periods.iter().map(|p| (p.period, p.closed)).collect::<Vec<_>>(), vec![(1, false), (0, true)]);
    fields_exist(&p, &[count, seat_days, close, open]);

    run(&ctx, vec![usage::put_report("So1", "k-1", &serde_json::json!({"n": 1}), 99).unwrap()]).await;
    let stored: Option<Value> = usage::report(&ctx, "So1", "k-1").await.unwrap();
    assert_eq!(stored.as_ref().map(|v| &v["n"]), Some(&serde_json::json!(1)));
    let snap = Snapshot { subscription_id: "So1".into(), day: 3, seats: 2, period: 0 };
    run(&ctx, vec![usage::put_snapshot(&snap).unwrap()]).await;
    assert_eq!(usage::snapshot(&ctx, "So1", 3).await.unwrap(), Some(snap));

    let intent = SeatIntent {
        subscription_id: "So1".into(),
        user_id: "u1".into(),
        file: "a.session".into(),
        actor: "t".into(),
        created_at: Timestamp(2),
        done: false,
        kind: seats::seat_kind(),
        reason: seats::seat_reason(),
    };
    run(&ctx, vec![seats::put(&intent).unwrap()]).await;
    assert_eq!(seats::get(&ctx, "So1", "a.session").await.unwrap(), Some(intent.clone()));
    assert_eq!(seats::begun_by(&ctx, Timestamp(2)).read_all().await.unwrap(), vec![intent.clone()]);
    fields_exist(&intent, &[seats::done("So1", "a.session")]);
    run(&ctx, vec![seats::done("So1", "a.session")]).await;
    assert!(seats::begun_by(&ctx, Timestamp(2)).read_all().await.unwrap().is_empty(), "done leaves the index");
}

#[tokio::test]
async fn file_records_tombstones_and_adjust_intents_round_trip() {
    use crate::domain::Location;
    use crate::services::store::files::{self, FileRecord, LostFile, WrittenOff};
    use crate::services::store::{Guard, adjusts};
    let (_d, ctx) = ctx();
    let rec = |name: &str| FileRecord {
        name: name.into(),
        location: Location::Unused,
        user_id: None,
        order_id: None,
        updated_at: Timestamp(1),
        ban_on_return: false,
    };
    run(&ctx, vec![files::put_new_file(&rec("a.session")).unwrap(), files::put_new_file(&rec("b.session")).unwrap()])
        .await;
    assert_eq!(files::get(&ctx, "a.session").await.unwrap(), Some(rec("a.session")));
    assert_eq!(
        files::at(&ctx, Location::Unused, 1).read_all().await.unwrap(),
        vec![rec("a.session"), rec("b.session")]
    );
    let between = files::at_between(&ctx, Location::Unused, "b", "c", 10).read_all().await.unwrap();
    assert_eq!(between, vec![rec("b.session")]);

    let assign = files::assign("a.session", "u1", "o1", Timestamp(2)).unwrap();
    run(&ctx, vec![assign.clone()]).await;
    let given = files::get(&ctx, "a.session").await.unwrap().unwrap();
    let want = FileRecord {
        location: Location::Assigned,
        user_id: Some("u1".into()),
        order_id: Some("o1".into()),
        updated_at: Timestamp(2),
        ..rec("a.session")
    };
    assert_eq!(given, want);
    assert_eq!(files::at(&ctx, Location::Assigned, 10).read_all().await.unwrap(), vec![want.clone()]);
    assert!(ctx.records.transact(vec![assign.clone()]).await.is_err(), "only an unused file is assigned");
    let checks = vec![
        files::flag("a.session").when(files::untouched(&want).unwrap()),
        files::ban("a.session", Timestamp(3)).unwrap().when(files::is_with("u1")),
    ];
    run(&ctx, checks.clone()[..1].to_vec()).await;
    assert!(files::get(&ctx, "a.session").await.unwrap().unwrap().ban_on_return);
    let writes = [
        assign,
        checks[0].clone(),
        checks[1].clone(),
        files::relocate("a.session", Location::Frozen, Timestamp(4)).unwrap(),
        files::unassign("a.session", Location::Unused, Timestamp(4)).unwrap(),
        files::follow(&want, Location::Banned, None, Timestamp(4)).unwrap(),
        files::delete("a.session").when(files::unchanged(&want).unwrap()),
    ];
    fields_exist(&want, &writes);
    run(&ctx, vec![files::unassign("a.session", Location::Banned, Timestamp(5)).unwrap()]).await;
    let back = files::get(&ctx, "a.session").await.unwrap().unwrap();
    assert_eq!((back.location, &back.user_id, &back.order_id), (Location::Banned, &None, &None));
    assert_eq!(files::at(&ctx, Location::Banned, 10).read_all().await.unwrap(), vec![back.clone()]);

    let gone = WrittenOff {
        name: "b.session".into(),
        was: Location::Unused,
        at: Timestamp(6),
        reason: "r".into(),
        actor: "t".into(),
    };
    run(&ctx, vec![files::delete("b.session"), files::put_written_off(&gone).unwrap()]).await;
    let tomb = ctx.records.get(&files::written_off_key("b.session")).await.unwrap().unwrap();
    assert_eq!(crate::services::items::from_item::<WrittenOff>(tomb).unwrap().was, Location::Unused);
    assert!(!files::was_lost(&ctx, "a.session").await.unwrap());
    let lost = LostFile {
        name: "a.session".into(),
        location: Location::Banned,
        user_id: None,
        order_id: None,
        lost_at: Timestamp(7),
        actor: "t".into(),
    };
    run(&ctx, vec![files::put_lost(&lost).unwrap()]).await;
    assert!(files::was_lost(&ctx, "a.session").await.unwrap());

    let intent = serde_json::json!({"file": "a.session", "files": ["a.session"], "done": false});
    run(&ctx, vec![adjusts::put("a.session", Timestamp(8), &intent).unwrap()]).await;
    let read: Option<Value> = adjusts::get(&ctx, "a.session").await.unwrap();
    assert_eq!(read.as_ref().map(|v| &v["done"]), Some(&Value::Bool(false)));
    assert!(ctx.records.transact(vec![adjusts::put("a.session", Timestamp(9), &intent).unwrap()]).await.is_err());
    run(&ctx, vec![adjusts::done("a.session")]).await;
    run(&ctx, vec![adjusts::put("a.session", Timestamp(9), &intent).unwrap()]).await;
}

#[tokio::test]
async fn products_and_low_stock_alerts_round_trip() {
    use crate::services::store::alerts::{self, LowStockAlert};
    use crate::services::store::catalog;
    let (_d, ctx) = ctx();
    let product = crate::domain::default_catalog().unwrap().remove(0);
    assert!(!catalog::seeded(&ctx).await.unwrap());
    run(&ctx, vec![catalog::put_new_product(&product).unwrap(), catalog::mark_seeded(Timestamp(1)).unwrap()]).await;
    assert!(catalog::seeded(&ctx).await.unwrap());
    assert_eq!(catalog::get(&ctx, &product.id).await.unwrap().map(|p| p.id), Some(product.id.clone()));
    assert_eq!(catalog::all(&ctx).read_all().await.unwrap().len(), 1);
    let alert =
        LowStockAlert { product_id: product.id.clone(), threshold: 4, available: 1, at: Timestamp(2), sold_out: false };
    run(&ctx, vec![alerts::raise(&alert).unwrap()]).await;
    assert_eq!(alerts::all(&ctx).read_all().await.unwrap()[0].product_id, product.id);
    // A level change is conditional on the level read; so is a clear.
    assert!(ctx.records.transact(vec![alerts::clear(&product.id, true)]).await.is_err());
    run(&ctx, vec![alerts::set_sold_out(&product.id, true, 0, Timestamp(3)).unwrap()]).await;
    assert!(
        ctx.records.transact(vec![alerts::set_sold_out(&product.id, true, 0, Timestamp(3)).unwrap()]).await.is_err()
    );
    assert!(alerts::all(&ctx).read_all().await.unwrap()[0].sold_out);
    assert!(ctx.records.transact(vec![alerts::clear(&product.id, false)]).await.is_err());
    run(&ctx, vec![alerts::clear(&product.id, true)]).await;
    assert!(alerts::all(&ctx).read_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reminder_is_sent_once_per_end_and_never_after_a_later_one() {
    use crate::services::store::subscriptions as subs;
    let (_d, ctx) = ctx();
    let sub = subscription();
    run(&ctx, vec![subs::put(&sub).unwrap()]).await;
    let refused = |w| async { ctx.records.transact(vec![w]).await.is_err() };
    run(&ctx, vec![subs::remind(&sub, 72)]).await;
    assert!(refused(subs::remind(&sub, 72)).await, "72 h sent once");
    run(&ctx, vec![subs::remind(&sub, 24)]).await;
    assert!(refused(subs::remind(&sub, 72)).await, "not the 72 h after the 24 h");
    assert!(refused(subs::remind(&sub, 24)).await);
    // A renewal moves the end later: the reminders start anew, and a
    // reminder read before it is refused.
    let read = subs::get(&ctx, "So1").await.unwrap().unwrap();
    assert_eq!(read.reminded, Some(24));
    run(&ctx, vec![subs::set_valid_until(&read, Timestamp(99)).unwrap()]).await;
    assert!(refused(subs::remind(&read, 72)).await, "stale: the end moved");
    let renewed = subs::get(&ctx, "So1").await.unwrap().unwrap();
    assert_eq!((renewed.reminded, renewed.valid_until), (None, Timestamp(99)));
    run(&ctx, vec![subs::remind(&renewed, 72)]).await;
    // A refund that shortens it keeps what was sent.
    let sent = subs::get(&ctx, "So1").await.unwrap().unwrap();
    run(&ctx, vec![subs::set_valid_until(&sent, Timestamp(50)).unwrap()]).await;
    assert_eq!(subs::get(&ctx, "So1").await.unwrap().unwrap().reminded, Some(72));
}
