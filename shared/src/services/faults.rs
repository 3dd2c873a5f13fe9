//! Named crash points for tests: a service calls `hit("fulfil.after_move")`
//! between steps; a test arms a point to make that step fail as a crash would
//! (the work is left half done and the message is redelivered).
//!
//! Two modes: `Fail` returns an error (the caller's error path runs, the
//! queue redelivers); `Abort` panics, so nothing after the point runs, not
//! even error handling: with a restart of the stack on the same data that is
//! the process dying there. Unarmed, `hit` costs one uncontended lock.
//!
//! Only with the test-only `faults` cargo feature (shared's own tests, the
//! function crates' tests and the black-box suites turn it on). Without it,
//! what ships, `Faults` holds nothing and `hit` is an inlined `Ok(())`.

use super::ServiceError;

/// Every named point, in the order the operations pass them. A test checks
/// this list against the `hit("...")` calls in the source.
pub const POINTS: &[&str] = &[
    // assign: claim commit | moves | finish commit (the credit earned in it)
    "fulfil.after_claim",
    "fulfil.after_first_move",
    "fulfil.after_move",
    "fulfil.after_finish",
    // revoke: begin commit | moves | booking commit
    "revoke.after_begin",
    "revoke.after_first_move",
    "revoke.after_move",
    // refund: refund commit | credits deactivated | revoke finished
    "refund.after_commit",
    "refund.after_credits",
    // credits: deactivation flag | transition; job: one post | the next
    "credits.after_flag",
    "credits.after_post",
    // payment webhook: status commit | fulfilment message sent
    "webhook.enqueue",
    // staff stock changes, seats, usage
    "adjust.after_commit",
    "adjust.after_first_move",
    "adjust.after_move",
    "seats.after_begin",
    "seats.after_move",
    "usage.read",
    // the dispatcher: events queue sent | webhooks and mail fanned out
    "dispatch.after_queue",
    "dispatch.after_fan_out",
    // scheduled jobs: a step that fails while the others still run
    "expire.verify",
    "reconcile.repair",
];

#[cfg(feature = "faults")]
pub use armed::{Faults, Mode};

/// Without the feature: nothing to arm, every point passes.
#[cfg(not(feature = "faults"))]
#[derive(Debug, Default)]
pub struct Faults;

#[cfg(not(feature = "faults"))]
impl Faults {
    pub fn new() -> Self {
        Faults
    }

    #[inline(always)]
    pub fn hit(&self, _point: &'static str) -> Result<(), ServiceError> {
        Ok(())
    }
}

#[cfg(feature = "faults")]
mod armed {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::ServiceError;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Mode {
        /// The step returns `ServiceError::Injected`.
        Fail,
        /// The step panics: the task dies mid-operation.
        Abort,
    }

    #[derive(Debug, Default)]
    pub struct Faults {
        armed: Mutex<HashMap<&'static str, (u32, Mode)>>,
    }

    impl Faults {
        pub fn new() -> Self {
            Self::default()
        }

        /// Makes the next `times` hits of `point` fail.
        pub fn arm(&self, point: &'static str, times: u32) {
            self.arm_mode(point, times, Mode::Fail);
        }

        /// Makes the next `times` hits of `point` fail or abort.
        pub fn arm_mode(&self, point: &'static str, times: u32, mode: Mode) {
            if let Ok(mut m) = self.armed.lock() {
                m.insert(point, (times, mode));
            }
        }

        /// How many armed hits of `point` are left.
        pub fn remaining(&self, point: &str) -> u32 {
            self.armed.lock().ok().and_then(|m| m.get(point).map(|(n, _)| *n)).unwrap_or(0)
        }

        pub fn hit(&self, point: &'static str) -> Result<(), ServiceError> {
            let mode = {
                let Ok(mut m) = self.armed.lock() else { return Ok(()) };
                match m.get_mut(point) {
                    Some((n, mode)) if *n > 0 => {
                        *n -= 1;
                        *mode
                    }
                    _ => return Ok(()),
                }
            };
            tracing::warn!(point, ?mode, "injected fault");
            match mode {
                Mode::Fail => Err(ServiceError::Injected(point)),
                // The lock is released: the panic poisons nothing.
                Mode::Abort => std::panic::panic_any(format!("injected abort at {point}")),
            }
        }
    }
}

#[cfg(all(test, feature = "faults"))]
mod tests {
    use super::*;

    #[test]
    fn armed_points_fail_the_given_number_of_times() {
        let f = Faults::default();
        assert!(f.hit("a").is_ok());
        f.arm("a", 2);
        assert!(f.hit("a").is_err());
        assert!(f.hit("b").is_ok());
        assert_eq!(f.remaining("a"), 1);
        assert!(f.hit("a").is_err());
        assert!(f.hit("a").is_ok());
        assert_eq!(f.remaining("a"), 0);
    }

    #[test]
    fn an_aborting_point_panics_once_and_leaves_the_faults_usable() {
        let f = std::sync::Arc::new(Faults::default());
        f.arm_mode("a", 1, Mode::Abort);
        let g = f.clone();
        assert!(std::thread::spawn(move || g.hit("a")).join().is_err(), "aborted");
        assert!(f.hit("a").is_ok());
        f.arm("b", 1);
        assert!(f.hit("b").is_err(), "not poisoned");
    }

    #[test]
    fn points_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(POINTS.iter().all(|p| seen.insert(*p)));
    }
}
