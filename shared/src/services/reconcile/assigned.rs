//! assigned/{user}/: the listing is sorted by user, the records index by
//! name, so the listing is held (name -> users, a bounded batch at a time)
//! while the FILES#assigned index streams past, as the invariant checker
//! does. A file the index agrees with costs nothing more; the rest are read
//! strongly and settled one by one. Ghosts (records whose file is not under
//! their user) are looked for only when the index holds more ASSIGNED
//! records than the listing matched.

use std::collections::BTreeMap;

use super::super::ServiceError;
use super::super::store::files::{self, FileRecord};
use super::super::store::merge::{Judge, Stock};
use super::super::store::subscriptions::{self as subs, SubscriptionRecord};
use super::super::tx::Tx;
use super::settle::{Place, Settled, settle};
use super::{MAX_ORPHANS, ORPHAN_SAMPLE, PAGE, Run, one, par};
use crate::domain::{LedgerKind, Location};

/// Listed files held at most before the index is walked for them (each
/// batch costs one walk of the index range it spans).
const HOLD: usize = 100_000;

pub(super) async fn scan(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let mut listing = Stock::new(ctx, "assigned/", PAGE, Judge::Full);
    let (mut held, mut n) = (BTreeMap::new(), 0);
    loop {
        let page = listing.read_page().await?;
        run.listed(&mut listing);
        let Some(page) = page else { break };
        for s in page {
            if let Some(walk) = run.walk() {
                walk.assigned_key(&s);
            }
            match s.user {
                Some(user) => {
                    held.entry(s.name).or_insert_with(Vec::new).push(user);
                    n += 1;
                }
                None => run.reject(&s.key, "not assigned/{user}/{file}"),
            }
        }
        if n >= HOLD {
            check(run, std::mem::take(&mut held)).await?;
            n = 0;
        }
    }
    check(run, held).await
}

/// One held batch (name -> users it is listed under): what the index agrees
/// with is matched; the rest is read strongly, page by page.
async fn check(run: &mut Run<'_>, mut held: BTreeMap<String, Vec<String>>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let (Some(first), Some(last)) = (held.keys().next().cloned(), held.keys().next_back().cloned()) else {
        return Ok(());
    };
    let mut recs = files::at_between(ctx, Location::Assigned, &first, &last, PAGE);
    while let Some(page) = recs.next_page().await? {
        for rec in page {
            // The index may lag: only an agreeing entry is taken as read.
            let (Location::Assigned, Some(user)) = (rec.location, rec.user_id.as_deref()) else { continue };
            let Some(users) = held.get_mut(&rec.name) else { continue };
            if let Some(i) = users.iter().position(|u| u == user) {
                users.swap_remove(i);
                if users.is_empty() {
                    held.remove(&rec.name);
                }
                run.matched_at(Location::Assigned);
            }
        }
    }
    let mut left: Vec<(String, String)> =
        held.into_iter().flat_map(|(name, users)| users.into_iter().map(move |u| (u, name.clone()))).collect();
    while !left.is_empty() {
        let rest = left.split_off(left.len().min(PAGE));
        read_and_settle(run, std::mem::replace(&mut left, rest)).await?;
    }
    Ok(())
}

/// Listed (user, name) the index did not confirm: each record read strongly.
async fn read_and_settle(run: &mut Run<'_>, seen: Vec<(String, String)>) -> Result<(), ServiceError> {
    let ctx = run.ctx;
    let names = seen.iter().map(|(_, n)| n.clone()).collect();
    let recs = par::each(names, |name: String| files::get_owned(ctx.records.clone(), name)).await?;
    for ((user, name), rec) in seen.into_iter().zip(recs) {
        let Some(rec) = rec else {
            orphan(run, user, name);
            continue;
        };
        let here = if rec.location == Location::Assigned && rec.user_id.as_deref() == Some(user.as_str()) {
            true
        } else {
            matches!(settle(run, &name, Some(&Place::assigned(&user))).await?, Settled::Done { here: true })
        };
        if here {
            run.matched_at(Location::Assigned);
        }
    }
    Ok(())
}

fn orphan(run: &mut Run<'_>, user: String, name: String) {
    run.report.orphans += 1;
    if run.orphans.len() < MAX_ORPHANS {
        run.orphans.insert((user, name));
    }
}

/// Orphans a live subscription lists get their record back. Live
/// subscriptions are the SUBS index (an ended one leaves it), read once and
/// only when there are orphans.
pub(super) async fn attach_orphans(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let mut live = subs::live(run.ctx);
    while !run.orphans.is_empty() {
        let Some(page) = live.next_page().await? else { break };
        for sub in page {
            for name in &sub.files {
                if run.orphans.remove(&(sub.user_id.clone(), name.clone())) {
                    attach(run, &sub, name).await?;
                }
            }
        }
    }
    let mut left = Vec::new();
    for (user, name) in std::mem::take(&mut run.orphans) {
        if !super::found::return_to_stock(run, &user, &name).await? {
            left.push(Place::assigned(&user).key(&name));
        }
    }
    left.sort();
    left.truncate(ORPHAN_SAMPLE);
    if !left.is_empty() {
        tracing::warn!(orphans = ?left, "files under assigned/ that no record or subscription owns");
    }
    run.report.orphan_keys = left;
    Ok(())
}

async fn attach(run: &mut Run<'_>, sub: &SubscriptionRecord, name: &str) -> Result<(), ServiceError> {
    let place = Place::assigned(&sub.user_id);
    if run.ctx.files.head(&place.key(name)).await?.is_none() {
        return Ok(());
    }
    let rec = FileRecord {
        name: name.to_string(),
        location: Location::Assigned,
        user_id: Some(sub.user_id.clone()),
        order_id: Some(sub.order_id.clone()),
        updated_at: run.ctx.clock.now(),
        ban_on_return: false,
    };
    let mut tx = Tx::new();
    tx.push((), files::put_new_file(&rec)?).push((), subs::check_live(&sub.subscription_id));
    let reason = format!("orphan attached to subscription {}", sub.subscription_id);
    tx.stock(run.entry(LedgerKind::Reconcile, name, one(Location::Assigned, 1), reason));
    if run.commit(tx).await?.is_done() {
        run.report.attached += 1;
        run.matched_at(Location::Assigned);
        tracing::warn!(file = name, subscription_id = %sub.subscription_id, "orphan attached");
    }
    Ok(())
}

/// Every ASSIGNED record the listing did not match is a ghost candidate. The
/// index is counted first; only a surplus costs a head per record.
pub(super) async fn find_ghosts(run: &mut Run<'_>) -> Result<(), ServiceError> {
    if count_assigned(run).await? <= run.matched.assigned {
        return Ok(());
    }
    let mut assigned = files::at(run.ctx, Location::Assigned, PAGE);
    while let Some(recs) = assigned.next_page().await? {
        let files = run.ctx.files.clone();
        let there = par::each(recs.iter().map(FileRecord::storage_key).collect(), |key: String| {
            let files = files.clone();
            async move { Ok(files.head(&key).await?.is_some()) }
        })
        .await?;
        for (rec, there) in recs.iter().zip(there) {
            if !there {
                settle(run, &rec.name, None).await?;
            }
        }
    }
    Ok(())
}

async fn count_assigned(run: &Run<'_>) -> Result<i64, ServiceError> {
    let (mut n, mut assigned) = (0, files::at(run.ctx, Location::Assigned, PAGE));
    while let Some(page) = assigned.next_page().await? {
        n += page.len() as i64;
    }
    Ok(n)
}
