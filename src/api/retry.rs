//! When to retry a failed request and how long to wait: exponential
//! backoff with full jitter, `Retry-After` honoured, bounded in attempts and
//! in total time. A 429 is pushback, not failure: it has its own, larger
//! attempt budget, and the [`super::pace::Pacer`] slows the whole client.

use std::time::Duration;

use rand::Rng;

use super::ApiError;

/// Retry bounds. The default suits a CI job.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all for errors other than 429, the first included.
    pub max_attempts: u32,
    /// Attempts in all while the server answers 429.
    pub max_throttled_attempts: u32,
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
            max_throttled_attempts: 30,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

/// Attempts made so far for one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempts {
    /// Failures other than 429.
    pub failed: u32,
    /// 429 answers.
    pub throttled: u32,
}

impl RetryPolicy {
    /// Never retry (for tests that count requests).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            max_throttled_attempts: 1,
            ..Self::default()
        }
    }

    /// How long to wait before trying again after `err`, or `None` to give
    /// up. `attempts` already counts the attempt that produced `err`.
    pub fn delay(&self, attempts: Attempts, elapsed: Duration, err: &ApiError) -> Option<Duration> {
        if !err.is_retryable() {
            return None;
        }
        let (n, max) = if err.is_throttled() {
            (attempts.throttled, self.max_throttled_attempts)
        } else {
            (attempts.failed, self.max_attempts)
        };
        if n >= max {
            return None;
        }
        let backoff = self
            .base_delay
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.max_delay);
        let jittered = Duration::from_secs_f64(rand::rng().random_range(0.0..=backoff.as_secs_f64()));
        let wait = match err.retry_after() {
            // The server said when; a little jitter spreads the herd.
            Some(secs) => Duration::from_secs(secs) + jittered.min(Duration::from_millis(50)),
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::api::{Failure, Method};

    fn err(status: u16, retry_after: Option<u64>) -> ApiError {
        ApiError {
            method: Method::Get,
            path: "/p".into(),
            failure: Failure::Status {
                status: reqwest::StatusCode::from_u16(status).unwrap(),
                message: None,
                retry_after,
            },
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(3));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        let future = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        assert!((118..=120).contains(&parse_retry_after(&future).unwrap()));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn retry_after_is_honoured_and_attempts_are_bounded() {
        let policy = RetryPolicy::default();
        let one = Attempts {
            failed: 0,
            throttled: 1,
        };
        let wait = policy.delay(one, Duration::ZERO, &err(429, Some(2))).unwrap();
        assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_millis(2050));
        let spent = Attempts {
            failed: 0,
            throttled: 30,
        };
        assert_eq!(policy.delay(spent, Duration::ZERO, &err(429, Some(1))), None);
        let failed = Attempts {
            failed: 5,
            throttled: 0,
        };
        assert_eq!(policy.delay(failed, Duration::ZERO, &err(503, None)), None);
        assert!(policy
            .delay(
                Attempts {
                    failed: 1,
                    throttled: 0
                },
                Duration::ZERO,
                &err(503, None)
            )
            .is_some());
    }

    #[test]
    fn backoff_grows_but_stays_capped_and_within_total_time() {
        let policy = RetryPolicy::default();
        for n in 1..5 {
            let wait = policy
                .delay(
                    Attempts {
                        failed: n,
                        throttled: 0,
                    },
                    Duration::ZERO,
                    &err(502, None),
                )
                .unwrap();
            assert!(wait <= policy.base_delay * (1 << (n - 1)));
        }
        assert_eq!(
            policy.delay(
                Attempts {
                    failed: 1,
                    throttled: 0
                },
                policy.max_elapsed,
                &err(502, None)
            ),
            None
        );
    }

    #[test]
    fn client_errors_are_never_retried() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(
                Attempts {
                    failed: 1,
                    throttled: 0
                },
                Duration::ZERO,
                &err(400, None)
            ),
            None
        );
    }
}
