//! Requests per API token: a token bucket each, in this server's memory. An integration
//! gets a steady rate with room for bursts; a runaway one is slowed instead of filling the
//! database (each server counts its own share).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sustained requests per second per token, by default: a busy contact center's chat
/// traffic (`ENGAJAR_API_RATE`).
pub const PER_SECOND: u32 = 20;
/// Requests a token may make at once after a quiet spell, by default (`ENGAJAR_API_BURST`).
pub const BURST: u32 = 100;

pub struct ApiRate {
    pub per_second: u32,
    pub burst: u32,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl Default for ApiRate {
    fn default() -> Self {
        ApiRate::new(PER_SECOND, BURST)
    }
}

impl ApiRate {
    pub fn new(per_second: u32, burst: u32) -> Self {
        ApiRate {
            per_second,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's worth for the token, or says how long to wait.
    pub fn take(&self, token: i64, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (rate, burst) = (f64::from(self.per_second), f64::from(self.burst));
        let (level, last) = buckets.entry(token).or_insert((burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * rate;
        *level = (*level + refill).min(burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - *level) / f64::from(PER_SECOND),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let rate = ApiRate::default();
        let start = Instant::now();
        for _ in 0..BURST {
            assert!(rate.take(1, start).is_ok());
        }
        assert!(rate.take(1, start).is_err());
        assert!(rate.take(2, start).is_ok(), "each token has its own bucket");
        let later = start + Duration::from_millis(1000 / u64::from(PER_SECOND));
        assert!(rate.take(1, later).is_ok());
        assert!(rate.take(1, later).is_err());
    }
}
