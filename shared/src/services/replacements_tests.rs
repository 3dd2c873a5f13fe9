//! Buyers' reports of bad files: the happy path and its repeat, strangers,
//! the cap, the warranty, no stock (filled first when stock returns),
//! concurrent reports of one file, and a crash between commit and moves.

use std::sync::Arc;

use super::*;
use crate::adapters::embedded::open_embedded;
use crate::domain::{Email, UserId};
use crate::ports::clock::OffsetClock;
use crate::services::faults::Mode;
use crate::services::fulfil::{FulfilOutcome, fulfil};
use crate::services::store::outbox;
use crate::services::store::replacements as waiting;
use crate::services::{invariants, restock};
use crate::testkit::join_all;
use crate::testkit::stack::{BUYER, local_ctx, paid_order};

struct Shop {
    _dir: tempfile::TempDir,
    ctx: Ctx,
    clock: Arc<OffsetClock>,
    sub_id: String,
    file: String,
}

/// A delivered bronze plan (one file) of `BUYER`, and `spare` more files in stock.
async fn shop(spare: u32) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::default());
    let b = open_embedded(dir.path(), clock.clone()).unwrap();
    let ctx =
        local_ctx(Arc::new(b.records), Arc::new(b.files), (Arc::new(b.fulfil), Arc::new(b.events)), clock.clone());
    let order = paid_order(&ctx, "bronze").await;
    let FulfilOutcome::Fulfilled { subscription_id, files } = fulfil(&ctx, &order).await.unwrap() else {
        panic!("not fulfilled")
    };
    stock(&ctx, "spare", spare).await;
    Shop { _dir: dir, ctx, clock, sub_id: subscription_id, file: files[0].clone() }
}

async fn stock(ctx: &Ctx, prefix: &str, n: u32) {
    for i in 0..n {
        ctx.files.put(&format!("unused/{prefix}{i}.session"), b"x".to_vec(), true).await.unwrap();
    }
    restock::adopt_new_files(ctx, "test").await.unwrap();
}

fn buyer() -> Email {
    Email::parse(BUYER).unwrap()
}

fn body(file: &str) -> ReportBody {
    ReportBody { file: file.into(), reason: "banned by the network".into() }
}

fn user() -> String {
    UserId::for_email(&buyer()).as_str().to_string()
}

async fn exists(ctx: &Ctx, key: &str) -> bool {
    ctx.files.head(key).await.unwrap().is_some()
}

async fn events_of(ctx: &Ctx, kind: &str) -> usize {
    let all = outbox::pending(ctx, 100).read_all().await.unwrap();
    all.iter().filter(|e| e.kind == kind).count()
}

async fn clean(ctx: &Ctx) {
    let report = invariants::check(ctx).await.unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(report.in_flight.is_empty(), "{:?}", report.in_flight);
}

fn refused_as(e: ServiceError) -> &'static str {
    match e {
        ServiceError::Refused { why, .. } => why.kind,
        ServiceError::NotFound(_) => "not-found",
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_reported_file_is_banned_and_replaced_once_and_a_repeat_gets_the_same_answer() {
    let s = shop(2).await;
    let done = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert!(done.created);
    assert_eq!(done.view.status, Status::Replaced);
    let new = done.view.new_file.clone().unwrap();
    assert!(exists(&s.ctx, &format!("banned/{}", s.file)).await);
    assert!(exists(&s.ctx, &format!("assigned/{}/{new}", user())).await);
    assert!(!exists(&s.ctx, &format!("assigned/{}/{}", user(), s.file)).await);
    let sub = subs::get(&s.ctx, &s.sub_id).await.unwrap().unwrap();
    assert_eq!(sub.files, vec![new.clone()], "the subscription keeps its file count");
    assert_eq!(events_of(&s.ctx, "subscription.file_replaced").await, 1);

    let again = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert!(!again.created);
    assert_eq!((again.view.replacement_id, again.view.new_file), (done.view.replacement_id, Some(new)));
    assert_eq!(events_of(&s.ctx, "subscription.file_replaced").await, 1);
    let stock = crate::services::stock::read_counts(&s.ctx).await.unwrap().counts;
    assert_eq!((stock.unused, stock.assigned, stock.banned), (1, 1, 1));
    clean(&s.ctx).await;
}

#[tokio::test]
async fn a_stranger_or_a_file_not_theirs_is_not_found_and_changes_nothing() {
    let s = shop(1).await;
    let stranger = Email::parse("someone@else.example").unwrap();
    let e = report(&s.ctx, &stranger, &s.sub_id, &body(&s.file)).await.unwrap_err();
    assert_eq!(refused_as(e), "not-found");
    let e = report(&s.ctx, &buyer(), &s.sub_id, &body("spare0.session")).await.unwrap_err();
    assert_eq!(refused_as(e), "not-found", "a file in stock is not theirs");
    let e = report(&s.ctx, &buyer(), "Snope", &body(&s.file)).await.unwrap_err();
    assert_eq!(refused_as(e), "not-found");
    let e = report(&s.ctx, &buyer(), &s.sub_id, &ReportBody { file: s.file.clone(), reason: " ".into() })
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::BadInput(_)));
    let e = report(&s.ctx, &buyer(), &s.sub_id, &body("../etc/passwd")).await.unwrap_err();
    assert!(matches!(e, ServiceError::BadInput(_)));
    assert!(exists(&s.ctx, &format!("assigned/{}/{}", user(), s.file)).await);
    assert!(exists(&s.ctx, "unused/spare0.session").await);
    clean(&s.ctx).await;
}

#[tokio::test]
async fn the_cap_and_the_warranty_are_409_with_their_own_types() {
    let s = shop(3).await;
    let first = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    let new = first.view.new_file.unwrap();
    // Bronze has one file: one replacement.
    let e = report(&s.ctx, &buyer(), &s.sub_id, &body(&new)).await.unwrap_err();
    assert_eq!(refused_as(e), "replacement-limit");

    let s = shop(1).await;
    s.clock.advance(72 * 3600 + 1);
    let e = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap_err();
    assert_eq!(refused_as(e), "out-of-warranty");
    assert!(exists(&s.ctx, "unused/spare0.session").await);
    clean(&s.ctx).await;
}

#[tokio::test]
async fn staff_replacements_do_not_use_up_the_buyers_cap() {
    let s = shop(2).await;
    let req =
        adjust::AdjustRequest { action: adjust::Action::Ban, files: vec![s.file.clone()], reason: "bad batch".into() };
    let staff = adjust::adjust(&s.ctx, &req, "staff:ops").await.unwrap();
    let new = staff[0].replacement.clone().unwrap();
    let done = report(&s.ctx, &buyer(), &s.sub_id, &body(&new)).await.unwrap();
    assert_eq!(done.view.status, Status::Replaced);
    // The file staff banned answers with that replacement.
    let old = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert_eq!((old.created, old.view.new_file), (false, Some(new)));
    clean(&s.ctx).await;
}

#[tokio::test]
async fn without_stock_the_report_waits_and_is_filled_when_stock_returns() {
    let s = shop(0).await;
    let done = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert_eq!((done.created, done.view.status, done.view.new_file.as_deref()), (true, Status::Backordered, None));
    // The file stays in use meanwhile.
    assert!(exists(&s.ctx, &format!("assigned/{}/{}", user(), s.file)).await);
    let again = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert_eq!((again.created, again.view.status), (false, Status::Backordered));

    // One file comes back (adopting it queues backorders after the fill).
    stock(&s.ctx, "late", 1).await;
    let sub = subs::get(&s.ctx, &s.sub_id).await.unwrap().unwrap();
    assert_eq!(sub.files, vec!["late0.session".to_string()], "the waiting replacement came first");
    assert!(sub.flagged.is_empty());
    assert!(exists(&s.ctx, &format!("banned/{}", s.file)).await);
    assert!(waiting::all(&s.ctx).read_all().await.unwrap().is_empty());
    let after = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
    assert_eq!((after.view.status, after.view.replacement_id), (Status::Replaced, done.view.replacement_id));
    clean(&s.ctx).await;
}

#[tokio::test]
async fn concurrent_reports_of_one_file_make_one_replacement() {
    let s = shop(3).await;
    let (email, b) = (buyer(), body(&s.file));
    let runs = (0..6).map(|_| report(&s.ctx, &email, &s.sub_id, &b)).collect();
    let results = join_all(runs).await;
    let ok: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(ok.iter().filter(|r| r.created).count(), 1, "one report made it");
    let ids: std::collections::HashSet<_> = ok.iter().map(|r| r.view.replacement_id.clone()).collect();
    assert_eq!(ids.len(), 1);
    let stock = crate::services::stock::read_counts(&s.ctx).await.unwrap().counts;
    assert_eq!((stock.unused, stock.assigned, stock.banned), (2, 1, 1));
    assert_eq!(events_of(&s.ctx, "subscription.file_replaced").await, 1);
    clean(&s.ctx).await;
}

#[tokio::test]
async fn a_crash_after_the_commit_is_finished_by_the_next_report() {
    for point in ["adjust.after_commit", "adjust.after_first_move"] {
        let s = shop(1).await;
        s.ctx.faults.arm_mode(point, 1, Mode::Fail);
        assert!(report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.is_err(), "{point}");
        let again = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap();
        assert_eq!((again.created, again.view.status), (false, Status::Replaced), "{point}");
        assert!(exists(&s.ctx, &format!("banned/{}", s.file)).await, "{point}");
        assert!(exists(&s.ctx, &format!("assigned/{}/spare0.session", user())).await, "{point}");
        clean(&s.ctx).await;
    }
}

#[tokio::test]
async fn an_ended_subscription_takes_no_reports() {
    let s = shop(1).await;
    let order = s.sub_id.trim_start_matches('S').to_string();
    crate::services::refunds::refund_order(&s.ctx, &crate::domain::OrderId::parse(&order).unwrap(), "staff")
        .await
        .unwrap();
    let e = report(&s.ctx, &buyer(), &s.sub_id, &body(&s.file)).await.unwrap_err();
    assert_eq!(refused_as(e), "subscription-ended");
    clean(&s.ctx).await;
}

/// Regression: a waiting replacement whose file had left its subscription
/// (taken back before take-backs cleared the wait) came back `Unchanged`
/// and stopped the fill, so every replacement waiting behind it starved.
#[tokio::test]
async fn a_waiting_replacement_that_cannot_be_filled_is_dropped_and_the_next_one_filled() {
    let s = shop(1).await;
    let bob = Email::parse("bob@example.com").unwrap();
    let order = crate::testkit::stack::another_order(&s.ctx, bob.as_str()).await;
    let FulfilOutcome::Fulfilled { subscription_id: bob_sub, files: bob_files } = fulfil(&s.ctx, &order).await.unwrap()
    else {
        panic!("not fulfilled")
    };
    let (stale, live) = ((&s.sub_id, &s.file), (&bob_sub, &bob_files[0]));
    assert!(stale.0 < live.0, "the stale entry is read first");
    for (sub, file, who) in [(stale.0, stale.1, buyer()), (live.0, live.1, bob.clone())] {
        let r = report(&s.ctx, &who, sub, &body(file)).await.unwrap();
        assert_eq!(r.view.status, Status::Backordered);
    }
    // The first buyer's flagged file leaves their subscription for banned/,
    // and its wait stays behind.
    let sub = subs::get(&s.ctx, stale.0).await.unwrap().unwrap();
    let now = s.ctx.clock.now();
    let gone = vec![subs::set_files(&sub, &Vec::<String>::new()).unwrap(), files::ban(stale.1, now).unwrap()];
    s.ctx.records.transact(gone).await.unwrap();
    s.ctx.files.move_file(&format!("assigned/{}/{}", user(), stale.1), &format!("banned/{}", stale.1)).await.unwrap();

    // One file returns: the replacement that can still be given gets it.
    stock(&s.ctx, "late", 1).await;
    let bobs = subs::get(&s.ctx, live.0).await.unwrap().unwrap();
    assert_eq!(bobs.files, vec!["late0.session".to_string()], "the next waiting replacement was filled");
    assert!(waiting::all(&s.ctx).read_all().await.unwrap().is_empty(), "the stale wait was dropped too");
}
