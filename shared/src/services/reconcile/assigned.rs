//! assigned/{user}/: the listing is sorted by user, the records index by
//! name, so the two cannot be merged; each listed file's record is read
//! (a few at a time). Ghosts (records whose file is not under their user)
//! are looked for only when the index holds more ASSIGNED records than the
//! listing matched.

use serde::Deserialize;

use super::super::items::{from_item, to_item};
use super::super::listed::{Listed, judge_page};
use super::super::model::FileRecord;
use super::super::{ServiceError, keys};
use super::settle::{Place, Settled, settle};
use super::{Applied, MAX_ORPHANS, ORPHAN_SAMPLE, PAGE, Run, one, par};
use crate::domain::{LedgerKind, Location};
use crate::ports::{Cond, Index, Query, Write};

pub(super) async fn scan(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let mut after: Option<String> = None;
    loop {
        let page = run.ctx.files.list("assigned/", after.as_deref(), PAGE).await?;
        run.report.scanned += page.keys.len() as u64;
        let mut seen = Vec::with_capacity(page.keys.len());
        for (key, judged) in page.keys.iter().zip(judge_page(run.ctx, &page.keys).await?) {
            match judged {
                Listed::Stock { user: Some(user), name } => seen.push((user, name)),
                Listed::Stock { user: None, .. } => run.reject(key, "not assigned/{user}/{file}"),
                Listed::Sidecar => {}
                Listed::Rejected(why) => run.reject(key, &why),
            }
        }
        let records = run.ctx.records.clone();
        let names = seen.iter().map(|(_, n)| n.clone()).collect();
        let items = par::each(names, |name: String| {
            let records = records.clone();
            async move { Ok(records.get(&keys::file(&name)).await?) }
        })
        .await?;
        for ((user, name), item) in seen.into_iter().zip(items) {
            let Some(item) = item else {
                orphan(run, user, name);
                continue;
            };
            let rec: FileRecord = from_item(item)?;
            let here = if rec.location == Location::Assigned && rec.user_id.as_deref() == Some(user.as_str()) {
                true
            } else {
                matches!(settle(run, &name, Some(&Place::assigned(&user))).await?, Settled::Done { here: true })
            };
            if here {
                run.matched_at(Location::Assigned);
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(()),
        }
    }
}

fn orphan(run: &mut Run<'_>, user: String, name: String) {
    run.report.orphans += 1;
    if run.orphans.len() < MAX_ORPHANS {
        run.orphans.insert((user, name));
    }
}

/// The parts of a subscription an orphan needs.
#[derive(Deserialize)]
struct Sub {
    subscription_id: String,
    order_id: String,
    user_id: String,
    files: Vec<String>,
}

/// Orphans a live subscription lists get their record back. Live
/// subscriptions are the SUBS index (an ended one leaves it), read once and
/// only when there are orphans.
pub(super) async fn attach_orphans(run: &mut Run<'_>) -> Result<(), ServiceError> {
    let mut cursor = None;
    while !run.orphans.is_empty() {
        let q = Query::new(Index::Gsi1, keys::SUBS_INDEX).limit(100).after(cursor);
        let page = run.ctx.records.query(q).await?;
        for item in page.items {
            let sub: Sub = from_item(item)?;
            for name in &sub.files {
                if run.orphans.remove(&(sub.user_id.clone(), name.clone())) {
                    attach(run, &sub, name).await?;
                }
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
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

async fn attach(run: &mut Run<'_>, sub: &Sub, name: &str) -> Result<(), ServiceError> {
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
    let gsi = (keys::files_at("assigned"), name.to_string());
    let writes = vec![
        Write::Put { item: to_item(&keys::file(name), &rec, Some(gsi), None)?, cond: Some(Cond::NotExists) },
        Write::Check {
            key: keys::subscription(&sub.subscription_id),
            cond: Cond::And(vec![Cond::Exists, Cond::Absent("ended".into())]),
        },
    ];
    let reason = format!("orphan attached to subscription {}", sub.subscription_id);
    let entry = run.entry(LedgerKind::Reconcile, name, one(Location::Assigned, 1), reason);
    if let Applied::Yes = run.commit(writes, vec![entry]).await? {
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
    let mut cursor = None;
    loop {
        let q = Query::new(Index::Gsi1, keys::files_at("assigned")).limit(PAGE).after(cursor);
        let page = run.ctx.records.query(q).await?;
        let recs = page.items.into_iter().map(from_item::<FileRecord>).collect::<Result<Vec<_>, _>>()?;
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
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
        }
    }
}

async fn count_assigned(run: &Run<'_>) -> Result<i64, ServiceError> {
    let (mut n, mut cursor) = (0, None);
    loop {
        let q = Query::new(Index::Gsi1, keys::files_at("assigned")).limit(PAGE).after(cursor);
        let page = run.ctx.records.query(q).await?;
        n += page.items.len() as i64;
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(n),
        }
    }
}
