//! Which staff sessions were found live lately, per process: a staff
//! request with a `sid` reads its session and account at most once per
//! `FRESH` (so a revocation elsewhere takes at most that long here), and
//! every account change made in this process forgets them all at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::Role;

/// How long a live answer is trusted without reading storage again.
pub const FRESH: Duration = Duration::from_secs(5);
/// Entries kept at most; past it the cache starts afresh.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct SessionCache {
    live: Mutex<HashMap<String, (Instant, Role)>>,
}

impl SessionCache {
    /// The role `sid` had when last found live, if that was under `FRESH` ago.
    pub fn get(&self, sid: &str) -> Option<Role> {
        let live = self.live.lock().ok()?;
        live.get(sid).filter(|(at, _)| at.elapsed() < FRESH).map(|(_, role)| *role)
    }

    pub fn put(&self, sid: &str, role: Role) {
        if let Ok(mut live) = self.live.lock() {
            if live.len() >= MAX_ENTRIES {
                live.clear();
            }
            live.insert(sid.to_string(), (Instant::now(), role));
        }
    }

    /// An account changed or a session ended: nothing cached holds.
    pub fn forget_all(&self) {
        if let Ok(mut live) = self.live.lock() {
            live.clear();
        }
    }
}
