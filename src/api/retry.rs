//! When to retry a failed request and how long to wait: exponential
//! backoff with full jitter, `Retry-After` honoured, bounded in attempts and
//! in total time.

use std::time::Duration;

use rand::Rng;

use super::ApiError;

/// Retry bounds. The default suits a CI job: up to 5 attempts within 60 s.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry (for tests that count requests).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// How long to wait before attempt `attempt + 1`, or `None` to give up.
    pub fn delay(&self, attempt: u32, elapsed: Duration, err: &ApiError) -> Option<Duration> {
        if !err.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        let backoff = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.max_delay);
        let jittered = Duration::from_secs_f64(rand::rng().random_range(0.0..=backoff.as_secs_f64()));
        let wait = match err.retry_after() {
            Some(secs) => Duration::from_secs(secs).max(jittered),
            None => jittered,
        };
        (elapsed + wait <= self.max_elapsed).then_some(wait)
    }
}

/// Reads a `Retry-After` value: delay-seconds, or an HTTP date (as seconds
/// from now, 0 if past).
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .map_or(0, |d| d.as_secs()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(3));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
