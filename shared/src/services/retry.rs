//! The one way to retry an optimistic step: read, decide, commit under a
//! condition; when what was read changed meanwhile, read again. One budget
//! and one backoff with jitter for every such loop; when the budget runs out
//! the caller gets `ServiceError::Conflict` (409 with Retry-After).

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

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
