//! Time and ids come through ports so tests (and the sandbox clock) can move
//! time forward.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's own time, never moved. Signature freshness (Stripe's 300 s)
/// is judged by it: a provider signs with real time whatever the sandbox
/// clock says.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::system_now()
    }
}

/// Business time: wall-clock time plus an offset that only grows (the
/// sandbox clock).
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_ms: AtomicI64,
}

impl OffsetClock {
    pub fn advance(&self, seconds: i64) -> Timestamp {
        self.offset_ms.fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst);
        self.now()
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::system_now().plus_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

pub trait IdGen: Send + Sync {
    /// A new unique, time-ordered id (ULID text).
    fn next_id(&self) -> String;
}

#[derive(Debug, Default)]
pub struct UlidGen;

impl IdGen for UlidGen {
    fn next_id(&self) -> String {
        ulid::Ulid::new().to_string()
    }
}
