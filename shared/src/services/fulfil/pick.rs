//! Which free files a claim tries, so concurrent claims do not all reach for
//! the first unused files and lose to each other. Two spreads: inside one
//! process, files another claim is committing right now, or committed since
//! this try read the free files, are passed over; across processes (Lambda
//! instances), each order starts at its own offset in the window, derived
//! from its id. Neither is needed for correctness: the claim's conditional
//! writes still refuse a file taken first.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::services::ServiceError;

/// Free files read per try beyond what the order wants: the room the
/// offsets spread over.
pub(super) const SPREAD: usize = 64;

/// Claims committed here that are remembered, for the tries that read the
/// free files before they committed (a batch is at most ten claims).
const REMEMBERED: usize = 256;

/// This process's claims: files picked by a claim not yet committed, and the
/// files of the last claims committed, numbered in commit order.
#[derive(Default)]
pub struct Claiming(Mutex<State>);

#[derive(Default)]
struct State {
    in_flight: HashSet<String>,
    /// (commit number, its files), oldest first.
    committed: VecDeque<(u64, Vec<String>)>,
    /// Claims committed here so far.
    commits: u64,
}

impl Claiming {
    /// Where the commits stand: taken before a try reads the free files, so
    /// its pick can pass over files claimed after that read began, which the
    /// read may still list as free.
    pub(super) fn mark(&self) -> Result<u64, ServiceError> {
        Ok(self.lock()?.commits)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, ServiceError> {
        self.0.lock().map_err(|_| ServiceError::internal(anyhow::anyhow!("claiming set poisoned")))
    }
}

/// The files one try picked; they leave the in-flight set when it drops.
pub(super) struct Picked<'a> {
    pub files: Vec<String>,
    claiming: &'a Claiming,
}

impl Picked<'_> {
    /// The claim committed: tries that read the free files before now pass
    /// over these files.
    pub(super) fn committed(&self) {
        // A poisoned set only loses its spread, never correctness.
        if let Ok(mut set) = self.claiming.0.lock() {
            set.commits += 1;
            let n = set.commits;
            set.committed.push_back((n, self.files.clone()));
            while set.committed.len() > REMEMBERED {
                set.committed.pop_front();
            }
        }
    }
}

impl Drop for Picked<'_> {
    fn drop(&mut self) {
        // A poisoned set only loses its spread, never correctness.
        if let Ok(mut set) = self.claiming.0.lock() {
            for f in &self.files {
                set.in_flight.remove(f);
            }
        }
    }
}

/// `wanted` files out of `free` (in name order, as read after `mark`),
/// starting at the order's offset and passing over files in flight here and
/// files claimed here since `mark`, unless too few are left without them.
/// `attempt` moves the offset on a retry.
pub(super) fn pick<'a>(
    claiming: &'a Claiming,
    order_id: &str,
    attempt: usize,
    mark: u64,
    free: Vec<String>,
    wanted: usize,
) -> Result<Picked<'a>, ServiceError> {
    let mut set = claiming.lock()?;
    let since: HashSet<&String> =
        set.committed.iter().filter(|(n, _)| *n > mark).flat_map(|(_, files)| files.iter()).collect();
    let idle: Vec<String> =
        free.iter().filter(|f| !set.in_flight.contains(*f) && !since.contains(f)).cloned().collect();
    let pool = if idle.len() >= wanted { idle } else { free };
    let files = if pool.len() <= wanted {
        pool
    } else {
        let start = offset(order_id, attempt, pool.len());
        pool.iter().cycle().skip(start).take(wanted).cloned().collect()
    };
    set.in_flight.extend(files.iter().cloned());
    Ok(Picked { files, claiming })
}

/// A stable position in `0..len` for this order and try.
fn offset(order_id: &str, attempt: usize, len: usize) -> usize {
    let digest = Sha256::new().chain_update(order_id).chain_update(attempt.to_le_bytes()).finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(head) % len as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_stay_in_range_and_differ_between_orders() {
        let starts: HashSet<usize> = (0..200).map(|n| offset(&format!("ord_{n}"), 0, 64)).collect();
        assert!(starts.iter().all(|s| *s < 64));
        // 200 orders over 64 slots: a hash that ignored the id would give one.
        assert!(starts.len() > 40, "{} distinct starts", starts.len());
        assert_eq!(offset("ord_1", 0, 64), offset("ord_1", 0, 64));
        assert_ne!((0..8).map(|a| offset("ord_1", a, 1000)).collect::<HashSet<_>>().len(), 1);
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("f{i:03}")).collect()
    }

    #[test]
    fn claims_in_flight_here_get_other_files_until_they_drop() {
        let claiming = Claiming::default();
        let a = pick(&claiming, "ord_a", 0, 0, names(10), 3).unwrap();
        let b = pick(&claiming, "ord_a", 0, 0, names(10), 3).unwrap();
        assert_eq!(a.files.len(), 3);
        assert!(b.files.iter().all(|f| !a.files.contains(f)), "{:?} vs {:?}", a.files, b.files);
        let again = a.files.clone();
        drop((a, b));
        assert_eq!(pick(&claiming, "ord_a", 0, 0, names(10), 3).unwrap().files, again);
    }

    #[test]
    fn too_few_idle_files_falls_back_to_all_free_ones() {
        let claiming = Claiming::default();
        let a = pick(&claiming, "ord_a", 0, 0, names(4), 3).unwrap();
        let b = pick(&claiming, "ord_b", 0, 0, names(4), 3).unwrap();
        assert_eq!(b.files.len(), 3, "short only when the records are: {:?} then {:?}", a.files, b.files);
        assert_eq!(pick(&claiming, "ord_c", 0, 0, names(2), 3).unwrap().files.len(), 2);
    }

    #[test]
    fn files_claimed_after_the_read_are_passed_over_by_tries_that_read_before() {
        let claiming = Claiming::default();
        let before = claiming.mark().unwrap();
        let a = pick(&claiming, "ord_a", 0, before, names(10), 3).unwrap();
        a.committed();
        let taken = a.files.clone();
        drop(a);
        // Read before a committed: its files may still be listed as free.
        let b = pick(&claiming, "ord_b", 0, before, names(10), 7).unwrap();
        assert!(b.files.iter().all(|f| !taken.contains(f)), "{taken:?} vs {:?}", b.files);
        drop(b);
        // Read after: the list itself no longer has them, nothing to skip.
        let after = claiming.mark().unwrap();
        assert_eq!(pick(&claiming, "ord_c", 0, after, names(3), 3).unwrap().files, names(3));
        // Too few left without them: all the free ones, as listed.
        assert_eq!(pick(&claiming, "ord_d", 0, before, names(4), 2).unwrap().files.len(), 2);
    }
}
