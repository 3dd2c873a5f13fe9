//! A few storage calls at once: per-key reads of a page would otherwise
//! cost one round trip each, one after another.

use std::future::Future;

use tokio::task::JoinSet;

use super::super::ServiceError;

/// Calls in flight at most (one page of keys never spawns a thousand).
const AT_ONCE: usize = 16;

/// Runs `f` over `items`, `AT_ONCE` at a time; results in input order.
pub(super) async fn each<I, T, F, Fut>(items: Vec<I>, f: F) -> Result<Vec<T>, ServiceError>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<T, ServiceError>> + Send + 'static,
    T: Send + 'static,
{
    let mut out: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
    let mut set = JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        if set.len() >= AT_ONCE {
            take_one(&mut set, &mut out).await?;
        }
        let fut = f(item);
        set.spawn(async move { (i, fut.await) });
    }
    while !set.is_empty() {
        take_one(&mut set, &mut out).await?;
    }
    out.into_iter()
        .map(|o| o.ok_or_else(|| ServiceError::internal(anyhow::anyhow!("a storage call went missing"))))
        .collect()
}

async fn take_one<T: Send + 'static>(
    set: &mut JoinSet<(usize, Result<T, ServiceError>)>,
    out: &mut [Option<T>],
) -> Result<(), ServiceError> {
    match set.join_next().await {
        Some(Ok((i, result))) => {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(result?);
            }
            Ok(())
        }
        Some(Err(e)) => Err(ServiceError::internal(anyhow::Error::new(e).context("storage call task"))),
        None => Ok(()),
    }
}
