//! One owner: no file in two live subscriptions, every file a live
//! subscription lists is under its user's prefix with a record saying so,
//! and every ASSIGNED record belongs to a live subscription of its user.
//! Live subscriptions are the SUBS index (an ended one leaves it); only
//! their file names are held, one entry per assigned file.

use std::collections::{BTreeMap, HashSet};

use super::super::store::subscriptions as subs;
use super::super::{Ctx, ServiceError};
use super::{Invariant, InvariantReport};

pub(super) struct Owners {
    /// (subscription id, user) of each live subscription.
    subs: Vec<(String, String)>,
    /// File -> the subscriptions listing it, and whether it was found where
    /// that subscription says.
    files: BTreeMap<String, Vec<(usize, bool)>>,
    found: Vec<String>,
}

impl Owners {
    pub(super) async fn load(ctx: &Ctx) -> Result<Owners, ServiceError> {
        let mut owners = Owners { subs: Vec::new(), files: BTreeMap::new(), found: Vec::new() };
        let mut live = subs::live(ctx);
        while let Some(page) = live.next_page().await? {
            for sub in page {
                if sub.ended.is_some() {
                    continue;
                }
                let i = owners.subs.len();
                for f in sub.files {
                    let claims = owners.files.entry(f.clone()).or_default();
                    if let Some((other, _)) = claims.first() {
                        let a = &owners.subs[*other].0;
                        let b = &sub.subscription_id;
                        owners.found.push(format!("{f} is in subscriptions {a} and {b}"));
                    }
                    claims.push((i, false));
                }
                owners.subs.push((sub.subscription_id, sub.user_id));
            }
        }
        Ok(owners)
    }

    /// Whether a live subscription of `user` lists `file`; `here` marks the
    /// file found at assigned/{user}/{file} with a record saying so.
    pub(super) fn claim(&mut self, file: &str, user: &str, here: bool) -> bool {
        let mut owned = false;
        for (i, ok) in self.files.get_mut(file).into_iter().flatten() {
            if self.subs[*i].1 == user {
                owned = true;
                *ok |= here;
            }
        }
        owned
    }

    /// The ids of the live subscriptions.
    pub(super) fn live_ids(&self) -> HashSet<String> {
        self.subs.iter().map(|(id, _)| id.clone()).collect()
    }

    /// An ASSIGNED record no live subscription of its user lists.
    pub(super) fn unowned(&mut self, key: &str) {
        self.found.push(format!("{key} belongs to no live subscription of that user"));
    }

    /// Reports what was found, then every listed file never found in place
    /// (files in flight are not judged).
    pub(super) fn finish(self, flight: &HashSet<String>, report: &mut InvariantReport) {
        for f in self.found {
            report.add(Invariant::OneOwner, f);
        }
        for (f, claims) in &self.files {
            for (i, ok) in claims {
                if !ok && !flight.contains(f) {
                    let (id, user) = &self.subs[*i];
                    let want = format!("assigned/{user}/{f}");
                    report.add(Invariant::OneOwner, format!("subscription {id} lists {f}, which is not at {want}"));
                }
            }
        }
    }
}
