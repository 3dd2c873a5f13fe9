//! The one way to retry an optimistic step: read, decide, commit under a
//! condition; when what was read changed meanwhile, read again. One budget
//! and one backoff with jitter for every such loop; when the budget runs out
//! the caller gets `ServiceError::Conflict` (409 with Retry-After).

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::ServiceError;

/// What one attempt came to.
#[derive(Debug)]
pub enum Step<T> {
    Done(T),
    /// What the attempt read changed before it could commit: read again.
    Again,
}

/// Tries a loop makes at least. Generous: a retry costs a read and a few
/// ms, and giving up turns a request into a 409.
pub const ATTEMPTS: u32 = 30;

/// How long a loop keeps trying at least. On a fast store 30 tries pass in
/// about 1.6 s of pauses; a buyer in a flash sale would rather wait a few
/// seconds more than be told to try again. Half a function's 10 s timeout.
pub const BUDGET: Duration = Duration::from_secs(5);

/// One loop's tries: it gives up only once it has made `ATTEMPTS` tries
/// and `BUDGET` has passed, so a slow store still gets its 30 tries and a
/// fast one is not given up on after 1.6 s.
#[derive(Debug)]
pub struct Tries {
    started: Instant,
    lost: u32,
}

impl Tries {
    pub fn start() -> Self {
        Tries { started: Instant::now(), lost: 0 }
    }

    /// Counts a lost try; false when the loop should give up.
    pub fn lose(&mut self) -> bool {
        self.lost += 1;
        self.lost < ATTEMPTS || self.started.elapsed() < BUDGET
    }

    /// Tries lost so far.
    pub fn lost(&self) -> u32 {
        self.lost
    }
}

/// Runs `attempt` until it is done, retrying `Step::Again` and conflicts
/// (`ServiceError::Conflict`, as a contended transaction reports itself),
/// with growing, jittered pauses, within one `Tries`. `what` names the
/// thing in the 409.
pub async fn retry<T, F, Fut>(what: impl Display, mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, ServiceError>>,
{
    let mut tries = Tries::start();
    loop {
        match attempt().await {
            Ok(Step::Done(v)) => return Ok(v),
            Ok(Step::Again) | Err(ServiceError::Conflict(_)) if tries.lose() => pause(tries.lost() - 1).await,
            Ok(Step::Again) | Err(ServiceError::Conflict(_)) => break,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::Conflict(format!("{what} kept changing; try again")))
}

/// 1 ms doubling to at most 64 ms, times a random 0.5..1.5 so racing
/// writers drift apart.
pub async fn pause(attempt: u32) {
    let base = 1u64 << attempt.min(6);
    let jitter = 0.5 + rand::random::<f64>();
    tokio::time::sleep(Duration::from_micros((base as f64 * 1000.0 * jitter) as u64)).await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn retries_again_and_conflicts_until_done() {
        let calls = AtomicU32::new(0);
        let v = retry("x", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Ok(Step::Again),
                1 => Err(ServiceError::Conflict("busy".into())),
                _ => Ok(Step::Done(7)),
            }
        })
        .await
        .unwrap();
        assert_eq!((v, calls.load(Ordering::SeqCst)), (7, 3));
    }

    /// On a fast store a loop that keeps losing is given up on only once
    /// the budget has passed, after many more than `ATTEMPTS` tries.
    #[tokio::test(start_paused = true)]
    async fn a_loop_that_keeps_losing_gives_up_with_a_conflict_once_its_budget_passed() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let e = retry("order o1", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<Step<()>, _>(Step::Again)
        })
        .await
        .unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(m) if m.contains("order o1")), "{e:?}");
        let waited = started.elapsed();
        assert!(waited >= BUDGET && waited < BUDGET + Duration::from_millis(100), "gave up after {waited:?}");
        assert!(calls.load(Ordering::SeqCst) > ATTEMPTS + 20, "{} tries", calls.load(Ordering::SeqCst));
    }

    /// On a slow store the budget passes first: the loop still makes its
    /// `ATTEMPTS` tries, and no more.
    #[tokio::test(start_paused = true)]
    async fn on_a_slow_store_a_loop_makes_its_tries_then_gives_up() {
        let calls = AtomicU32::new(0);
        let e = retry("x", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            Err::<Step<()>, _>(ServiceError::Conflict("busy".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test]
    async fn other_errors_end_at_once() {
        let calls = AtomicU32::new(0);
        let e = retry("x", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<Step<()>, _>(ServiceError::NotFound("gone".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound(_)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
