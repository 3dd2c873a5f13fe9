//! The one way to retry an optimistic step: read, decide, commit under a
//! condition; when what was read changed meanwhile, read again. One budget
//! and one backoff with jitter for every such loop; when the budget runs out
//! the caller gets `ServiceError::Conflict` (409 with Retry-After). A race
//! on the stock counters, lost only to others' commits, is also kept up
//! for a few seconds (`Tries`).

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

/// Attempts per loop. Generous: a retry costs a read and a few ms, and
/// giving up turns a request into a 409.
pub const ATTEMPTS: u32 = 30;

/// Runs `attempt` until it is done, retrying `Step::Again` and conflicts
/// (`ServiceError::Conflict`, as a contended transaction reports itself),
/// with growing, jittered pauses. `what` names the thing in the 409.
///
/// A count, not a time: `Step::Again` also means "not now" (a refund of an
/// order whose fulfilment is still open), and that caller is better told
/// to try again after 1.6 s than after seconds more.
pub async fn retry<T, F, Fut>(what: impl Display, mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, ServiceError>>,
{
    for n in 0..ATTEMPTS {
        match attempt().await {
            Ok(Step::Done(v)) => return Ok(v),
            Ok(Step::Again) | Err(ServiceError::Conflict(_)) => pause(n).await,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::Conflict(format!("{what} kept changing; try again")))
}

/// How long a race on the stock counters is kept up at least. On a fast
/// store 30 tries pass in about 1.6 s of pauses; a buyer in a flash sale
/// would rather wait a few seconds more than be told to try again. Half a
/// function's 10 s timeout.
pub const BUDGET: Duration = Duration::from_secs(5);

/// The tries of a loop that only loses when others commit (the stock
/// counters' version): it gives up only once it has made `ATTEMPTS` tries
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

    #[tokio::test(start_paused = true)]
    async fn retries_again_and_conflicts_then_gives_up_with_a_conflict() {
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

        let calls = AtomicU32::new(0);
        let e = retry("order o1", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<Step<()>, _>(Step::Again)
        })
        .await
        .unwrap_err();
        assert!(matches!(&e, ServiceError::Conflict(m) if m.contains("order o1")), "{e:?}");
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }

    /// Losing fast, the race is kept up past `ATTEMPTS` until the budget
    /// has passed.
    #[tokio::test(start_paused = true)]
    async fn a_race_lost_fast_is_kept_up_until_its_budget_passed() {
        let mut tries = Tries::start();
        let started = Instant::now();
        while tries.lose() {
            pause(tries.lost() - 1).await;
        }
        let waited = started.elapsed();
        assert!(waited >= BUDGET && waited < BUDGET + Duration::from_millis(100), "gave up after {waited:?}");
        assert!(tries.lost() > ATTEMPTS + 20, "{} tries", tries.lost());
    }

    /// Losing slowly, the budget passes first: the race still gets its
    /// `ATTEMPTS` tries, and no more.
    #[tokio::test(start_paused = true)]
    async fn a_race_lost_slowly_gets_its_tries_then_gives_up() {
        let mut tries = Tries::start();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !tries.lose() {
                break;
            }
        }
        assert_eq!(tries.lost(), ATTEMPTS);
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
