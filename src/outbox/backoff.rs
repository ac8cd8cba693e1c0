//! Retry delays: exponential backoff with jitter, and the platform's own retry-after honoured.

use std::time::Duration;

use rand::Rng;

/// The retry policy.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before attempt `failures + 1`: `base * 2^failures` capped at `max`, then a random point in
    /// its upper half ("equal jitter"), so retries of many messages spread out but never come too early.
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << failures.min(20));
        let full = exp.min(self.max).max(Duration::from_millis(1));
        let half = full / 2;
        let jitter_ms = rand::rng().random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms)
    }

    /// The delay a platform asked for, plus up to 10 % so that many waiting senders do not return at once.
    pub fn retry_after(&self, asked: Duration) -> Duration {
        let extra = rand::rng().random_range(0..=(asked.as_millis() as u64 / 10).max(1));
        asked + Duration::from_millis(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_bounds() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        for _ in 0..50 {
            let d0 = b.delay(0);
            assert!(
                d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100),
                "{d0:?}"
            );
            let d3 = b.delay(3);
            assert!(
                d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800),
                "{d3:?}"
            );
            let big = b.delay(30);
            assert!(
                big >= Duration::from_secs(1) && big <= Duration::from_secs(2),
                "{big:?}"
            );
            let ra = b.retry_after(Duration::from_secs(3));
            assert!(
                ra >= Duration::from_secs(3) && ra <= Duration::from_millis(3300),
                "{ra:?}"
            );
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let b = Backoff {
            base: Duration::from_millis(1000),
            max: Duration::from_secs(60),
        };
        let distinct: std::collections::HashSet<_> = (0..20).map(|_| b.delay(2)).collect();
        assert!(distinct.len() > 1);
    }
}
