//! What the fuzz targets share: the input's layout, and a heap meter that
//! turns "no unbounded allocation" into a crash libFuzzer can save.
//!
//! libFuzzer's own `-malloc_limit_mb` needs a sanitizer's malloc hooks, which
//! stable Rust (`--sanitizer none`) does not have; this allocator does that
//! job, and `-rss_limit_mb` still bounds the process as a whole.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use http::{HeaderMap, HeaderValue};

/// The secret every target signs and verifies with.
pub const SECRET: &str = "whsec_fuzz_secret";

/// One allocation larger than this aborts at once (the input is saved).
const MAX_ONE_ALLOCATION: usize = 64 << 20;

pub struct Metered;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Metered {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ONE_ALLOCATION {
            // Not a panic: panicking allocates.
            std::process::abort();
        }
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

/// Runs `f` and panics if the heap grew by more than a linear budget in the
/// input's length at any moment (libFuzzer runs one input at a time).
pub fn within_heap_budget<R>(input_len: usize, f: impl FnOnce() -> R) -> R {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    let grew = PEAK.load(Relaxed).saturating_sub(base);
    let budget = 64 * input_len + (1 << 20);
    assert!(grew <= budget, "heap grew by {grew} bytes for a {input_len}-byte input (budget {budget})");
    out
}

/// A webhook input: `header line '\n' body`.
pub struct Webhook<'a> {
    /// The header line was empty: the target signs the body itself, so the
    /// parser behind a good signature is reached too.
    pub sign: bool,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

impl<'a> Webhook<'a> {
    /// No '\n': all body, no signature header. Otherwise the header line's
    /// NUL-separated parts are the header's values (several: sent more than
    /// once). `None` for values `http` itself refuses (never reach us).
    pub fn split(data: &'a [u8], header: &'static str) -> Option<Self> {
        let mut headers = HeaderMap::new();
        let Some(nl) = data.iter().position(|&b| b == b'\n') else {
            return Some(Webhook { sign: false, headers, body: data });
        };
        let (line, body) = (&data[..nl], &data[nl + 1..]);
        if !line.is_empty() {
            for part in line.split(|&b| b == 0) {
                headers.append(header, HeaderValue::from_bytes(part).ok()?);
            }
        }
        Some(Webhook { sign: line.is_empty(), headers, body })
    }
}
