//! Request counting by operation, so tests and the benchmark can say how many
//! DynamoDB, S3 and SQS calls a use case costs.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct OpStats {
    calls: AtomicU64,
    nanos: AtomicU64,
}

/// Counts requests per operation (`"dynamodb.GetItem"`, `"s3.CopyObject"`, ...).
/// Cheap to clone: clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    ops: Arc<RwLock<BTreeMap<&'static str, Arc<OpStats>>>>,
}

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request of `op` and adds its duration.
    pub fn record(&self, op: &'static str, elapsed: Duration) {
        let stats = self.stats(op);
        stats.calls.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        stats.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Runs one request future, counting and timing it (failures count too).
    pub async fn call<F: Future>(&self, op: &'static str, request: F) -> F::Output {
        let started = Instant::now();
        let out = request.await;
        self.record(op, started.elapsed());
        out
    }

    /// Requests of one operation so far.
    pub fn get(&self, op: &str) -> u64 {
        let ops = self.ops.read().unwrap_or_else(|e| e.into_inner());
        ops.get(op).map_or(0, |s| s.calls.load(Ordering::Relaxed))
    }

    /// Requests of every operation so far.
    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Operation -> requests, operations never called left out.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.fold(|s| s.calls.load(Ordering::Relaxed))
    }

    /// Operation -> mean duration of one request.
    pub fn mean_latency(&self) -> BTreeMap<String, Duration> {
        self.fold(|s| {
            let calls = s.calls.load(Ordering::Relaxed).max(1);
            Duration::from_nanos(s.nanos.load(Ordering::Relaxed) / calls)
        })
    }

    pub fn reset(&self) {
        let ops = self.ops.read().unwrap_or_else(|e| e.into_inner());
        for stats in ops.values() {
            stats.calls.store(0, Ordering::Relaxed);
            stats.nanos.store(0, Ordering::Relaxed);
        }
    }

    fn fold<T>(&self, f: impl Fn(&OpStats) -> T) -> BTreeMap<String, T> {
        let ops = self.ops.read().unwrap_or_else(|e| e.into_inner());
        ops.iter().filter(|(_, s)| s.calls.load(Ordering::Relaxed) > 0).map(|(op, s)| (op.to_string(), f(s))).collect()
    }

    fn stats(&self, op: &'static str) -> Arc<OpStats> {
        if let Some(stats) = self.ops.read().unwrap_or_else(|e| e.into_inner()).get(op) {
            return stats.clone();
        }
        let mut ops = self.ops.write().unwrap_or_else(|e| e.into_inner());
        ops.entry(op).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_by_operation_and_resets() {
        let counter = RequestCounter::new();
        let shared = counter.clone();
        shared.call("s3.CopyObject", async {}).await;
        shared.call("s3.CopyObject", async {}).await;
        counter.record("sqs.SendMessage", Duration::from_millis(4));

        let snap = counter.snapshot();
        assert_eq!(snap.get("s3.CopyObject"), Some(&2));
        assert_eq!(snap.get("sqs.SendMessage"), Some(&1));
        assert_eq!(counter.total(), 3);
        assert_eq!(counter.mean_latency()["sqs.SendMessage"], Duration::from_millis(4));

        counter.reset();
        assert!(counter.snapshot().is_empty());
        assert_eq!(counter.get("s3.CopyObject"), 0);
    }
}
