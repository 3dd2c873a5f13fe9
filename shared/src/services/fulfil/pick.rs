//! Which free files a claim tries, so concurrent claims do not all reach for
//! the first unused files and lose to each other. Two spreads: inside one
//! process, files another claim is committing right now are passed over;
//! across processes (Lambda instances), each order starts at its own offset
//! in the window, derived from its id. Neither is needed for correctness: the
//! claim's conditional writes still refuse a file taken first.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::services::ServiceError;

/// Free files read per try beyond what the order wants: the room the
/// offsets spread over.
pub(super) const SPREAD: usize = 64;

/// Files in flight in this process: picked by a claim not yet committed.
#[derive(Default)]
pub struct Claiming(Mutex<HashSet<String>>);

/// The files one try picked; they leave the in-flight set when it drops.
pub(super) struct Picked<'a> {
    pub files: Vec<String>,
    claiming: &'a Claiming,
}

impl Drop for Picked<'_> {
    fn drop(&mut self) {
        // A poisoned set only loses its spread, never correctness.
        if let Ok(mut set) = self.claiming.0.lock() {
            for f in &self.files {
                set.remove(f);
            }
        }
    }
}

/// `wanted` files out of `free` (in name order), starting at the order's
/// offset and passing over files in flight here, unless too few are left
/// without them. `attempt` moves the offset on a retry.
pub(super) fn pick<'a>(
    claiming: &'a Claiming,
    order_id: &str,
    attempt: usize,
    free: Vec<String>,
    wanted: usize,
) -> Result<Picked<'a>, ServiceError> {
    let mut set = claiming.0.lock().map_err(|_| ServiceError::internal(anyhow::anyhow!("claiming set poisoned")))?;
    let idle: Vec<String> = free.iter().filter(|f| !set.contains(*f)).cloned().collect();
    let pool = if idle.len() >= wanted { idle } else { free };
    let files = if pool.len() <= wanted {
        pool
    } else {
        let start = offset(order_id, attempt, pool.len());
        pool.iter().cycle().skip(start).take(wanted).cloned().collect()
    };
    set.extend(files.iter().cloned());
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
        let a = pick(&claiming, "ord_a", 0, names(10), 3).unwrap();
        let b = pick(&claiming, "ord_a", 0, names(10), 3).unwrap();
        assert_eq!(a.files.len(), 3);
        assert!(b.files.iter().all(|f| !a.files.contains(f)), "{:?} vs {:?}", a.files, b.files);
        let again = a.files.clone();
        drop((a, b));
        assert_eq!(pick(&claiming, "ord_a", 0, names(10), 3).unwrap().files, again);
    }

    #[test]
    fn too_few_idle_files_falls_back_to_all_free_ones() {
        let claiming = Claiming::default();
        let a = pick(&claiming, "ord_a", 0, names(4), 3).unwrap();
        let b = pick(&claiming, "ord_b", 0, names(4), 3).unwrap();
        assert_eq!(b.files.len(), 3, "short only when the records are: {:?} then {:?}", a.files, b.files);
        assert_eq!(pick(&claiming, "ord_c", 0, names(2), 3).unwrap().files.len(), 2);
    }
}
