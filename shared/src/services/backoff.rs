//! When a failed delivery (a merchant webhook, a mail) is tried again: the
//! Standard Webhooks example schedule, a little over three days in all.

/// Delay after the n-th failed attempt (seconds).
pub const DELAYS: [i64; 9] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600];
/// Longest `Retry-After` honoured; a longer one is taken as this.
const MAX_RETRY_AFTER: i64 = 24 * 3600;

/// Attempts in one series at most (the first, then one per delay).
pub const MAX_ATTEMPTS: u32 = DELAYS.len() as u32 + 1;

/// Milliseconds to wait after `failures` failed attempts, or None when the
/// schedule is done. `jitter` in [0, 1) adds up to a fifth: only later,
/// never earlier, so the series still spans three days. A `Retry-After`
/// from the receiver is a floor.
pub fn delay_millis(failures: u32, retry_after: Option<u64>, jitter: f64) -> Option<i64> {
    let base = *DELAYS.get(usize::try_from(failures).ok()?.checked_sub(1)?)? * 1000;
    let jittered = base + (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64;
    let floor = retry_after.map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX).min(MAX_RETRY_AFTER) * 1000);
    Some(jittered.max(floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_grows_and_spans_at_least_three_days() {
        let all: Vec<i64> = (1..MAX_ATTEMPTS).map(|n| delay_millis(n, None, 0.0).unwrap()).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(all[0], 5_000);
        assert!(all.iter().sum::<i64>() >= 3 * 86_400_000);
        assert_eq!(delay_millis(MAX_ATTEMPTS, None, 0.0), None);
        assert_eq!(delay_millis(0, None, 0.0), None);
    }

    #[test]
    fn jitter_only_delays_and_retry_after_is_a_floor() {
        assert_eq!(delay_millis(2, None, 0.999).map(|d| d > 300_000 && d <= 360_000), Some(true));
        assert_eq!(delay_millis(1, Some(3600), 0.0), Some(3_600_000));
        assert_eq!(delay_millis(1, Some(u64::MAX), 0.0), Some(86_400_000));
        assert_eq!(delay_millis(3, Some(1), 0.0), Some(1_800_000));
    }
}
