//! The checks after a run, on plain data so the tests can feed them a
//! broken run.

use std::collections::BTreeSet;

/// What the checkouts came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// (shard, file) per won hold.
    pub won: Vec<(usize, String)>,
    pub refused: u64,
    pub gave_up: u64,
    /// Shards passed over because they were empty, summed.
    pub walked: u64,
}

/// One ledger line as read back.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub version: i64,
    pub delta: i64,
    pub before: i64,
    pub after: i64,
}

/// No oversell: exactly min(files, checkouts) winners, no file twice,
/// every other checkout refused (none gave up on retries).
pub fn oversell(files: usize, checkouts: usize, o: &Outcome) -> Vec<String> {
    let mut failed = Vec::new();
    let expected = files.min(checkouts);
    if o.won.len() != expected {
        failed.push(format!("{} winners for {files} files and {checkouts} checkouts", o.won.len()));
    }
    let distinct: BTreeSet<&str> = o.won.iter().map(|(_, f)| f.as_str()).collect();
    if distinct.len() != o.won.len() {
        failed.push(format!("{} holds on {} distinct files", o.won.len(), distinct.len()));
    }
    if o.refused + o.gave_up + o.won.len() as u64 != checkouts as u64 || o.gave_up > 0 {
        failed.push(format!("refused {}, gave up {}, won {}", o.refused, o.gave_up, o.won.len()));
    }
    failed
}

/// A shard's ledger (in key order) is gap-free from version 1 to the
/// counters' version, each line starts where the last ended, and the lines
/// sum to the counters' available stock.
pub fn ledger(shard: usize, entries: &[Entry], available: i64, version: i64) -> Vec<String> {
    let mut failed = Vec::new();
    let mut last = 0;
    for (i, e) in entries.iter().enumerate() {
        if e.version != i as i64 + 1 {
            failed.push(format!("shard {shard}: ledger line {} has version {}", i + 1, e.version));
            break;
        }
        if e.before != last || e.after != e.before + e.delta {
            failed
                .push(format!("shard {shard}: version {} goes {} -> {} by {}", e.version, e.before, e.after, e.delta));
        }
        last = e.after;
    }
    let sum: i64 = entries.iter().map(|e| e.delta).sum();
    if entries.len() as i64 != version || sum != available {
        failed.push(format!(
            "shard {shard}: {} lines summing to {sum}, counters version {version} available {available}",
            entries.len()
        ));
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn won(files: &[&str]) -> Outcome {
        Outcome { won: files.iter().map(|f| (0, f.to_string())).collect(), ..Outcome::default() }
    }

    #[test]
    fn a_clean_contended_run_passes() {
        let mut o = won(&["a", "b"]);
        o.refused = 3;
        assert!(oversell(2, 5, &o).is_empty());
    }

    #[test]
    fn an_oversold_run_fails() {
        let mut o = won(&["a", "b", "c"]);
        o.refused = 2;
        assert!(!oversell(2, 5, &o).is_empty());
    }

    #[test]
    fn a_file_held_twice_fails() {
        let mut o = won(&["a", "a"]);
        o.refused = 3;
        assert!(!oversell(2, 5, &o).is_empty());
    }

    #[test]
    fn a_ledger_gap_or_wrong_sum_fails() {
        let e = |version, delta, before| Entry { version, delta, before, after: before + delta };
        let good = [e(1, 3, 0), e(2, -1, 3), e(3, -1, 2)];
        assert!(ledger(0, &good, 1, 3).is_empty());
        assert!(!ledger(0, &[e(1, 3, 0), e(3, -1, 3)], 2, 3).is_empty());
        assert!(!ledger(0, &good, 2, 3).is_empty());
    }
}
