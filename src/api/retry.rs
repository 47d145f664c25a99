//! When to retry a failed request and how long to wait: exponential
//! backoff with full jitter, `Retry-After` honoured, bounded in attempts
//! and in total time. A 429 is pushback, not failure: it has its own,
//! larger attempt budget, and the pacer (`pace.rs`) slows the whole client.

use std::time::Duration;

use rand::Rng;

use super::{ApiError, Failure};

/// Retry bounds. The default suits a CI job.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all for errors other than 429, the first included.
    pub max_attempts: u32,
    /// Attempts in all while the server answers 429.
    pub max_throttled_attempts: u32,
    /// Backoff before the second attempt; doubles each time up to `max_delay`.
    pub base_delay: Duration,
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

/// Attempts made so far for one request: failures other than 429, and 429s.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Attempts {
    pub failed: u32,
    pub throttled: u32,
}

impl RetryPolicy {
    /// How long to wait before sending again after `err`, or `None` to give
    /// up. `attempts` counts the attempt that produced `err`. Every wait
    /// ends within `max_elapsed` of the first attempt: a `Retry-After`
    /// asking for longer makes `err` a [`Failure::WaitTooLong`] at once.
    pub(super) fn next(&self, attempts: Attempts, elapsed: Duration, err: &mut ApiError) -> Option<Duration> {
        let (n, max) = match err.is_throttled() {
            true => (attempts.throttled, self.max_throttled_attempts),
            false => (attempts.failed, self.max_attempts),
        };
        if !err.is_retryable() || n >= max {
            return None;
        }
        let left = self.max_elapsed.saturating_sub(elapsed);
        let backoff = self
            .base_delay
            .saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(self.max_delay);
        let jittered = Duration::from_secs_f64(rand::rng().random_range(0.0..=backoff.as_secs_f64()));
        let wait = match (err.retry_after(), &mut err.failure) {
            (Some(asked), Failure::Status { status, message, .. }) if Duration::from_secs(asked) > left => {
                let (status, message) = (*status, message.take());
                err.failure = Failure::WaitTooLong {
                    status,
                    message,
                    asked,
                    left: left.as_secs(),
                };
                return None;
            }
            // The server said when; a little jitter spreads the herd.
            (Some(secs), _) => {
                Duration::from_secs(secs).saturating_add(jittered.min(Duration::from_millis(50)))
            }
            (None, _) => jittered,
        };
        (wait <= left).then_some(wait)
    }
}

/// Reads a `Retry-After` value: delay-seconds (only digits; more than
/// `u64` holds saturates), or an HTTP date (seconds from now, 0 if past).
/// Anything else (`soon`, `-5`, `1e9`, empty) is `None`: as if the server
/// had not said, so the usual backoff applies.
pub(super) fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().unwrap_or(u64::MAX));
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
    use crate::api::Method;
    use crate::apply::CallError as _;

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

    /// The wait [`RetryPolicy::next`] decides, if it decides to wait.
    fn wait(
        policy: &RetryPolicy,
        failed: u32,
        throttled: u32,
        elapsed: Duration,
        mut err: ApiError,
    ) -> Option<Duration> {
        policy.next(Attempts { failed, throttled }, elapsed, &mut err)
    }

    /// What a call that gives up over `Retry-After` becomes: (asked, left).
    fn too_long(policy: &RetryPolicy, elapsed: Duration, mut err: ApiError) -> Option<(u64, u64)> {
        let once = Attempts {
            failed: 0,
            throttled: 1,
        };
        assert_eq!(policy.next(once, elapsed, &mut err), None);
        match err.failure {
            Failure::WaitTooLong { asked, left, .. } => Some((asked, left)),
            _ => None,
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(3));
        assert_eq!(parse_retry_after(" 3 "), Some(3));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        let future = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        assert!((118..=120).contains(&parse_retry_after(&future).unwrap()));
    }

    #[test]
    fn retry_after_saturates_and_ignores_nonsense() {
        assert_eq!(parse_retry_after("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry_after("99999999999999999999999999"), Some(u64::MAX));
        for nonsense in [
            "soon",
            "-5",
            "+5",
            "1e9",
            "3.5",
            "",
            "  ",
            "0x10",
            "Wed, 99 Foo 2015",
        ] {
            assert_eq!(parse_retry_after(nonsense), None, "{nonsense:?}");
        }
    }

    #[test]
    fn a_wait_beyond_the_budget_fails_the_call_at_once() {
        let policy = RetryPolicy::default();
        for asked in [121, 3600, u64::MAX] {
            assert_eq!(
                too_long(&policy, Duration::ZERO, err(429, Some(asked))),
                Some((asked, 120))
            );
        }
        let late = Duration::from_secs(100);
        assert_eq!(too_long(&policy, late, err(503, Some(30))), Some((30, 20)));
        assert!(wait(&policy, 0, 1, late, err(429, Some(19))).is_some());
        // No arithmetic overflows, however late or long.
        assert_eq!(
            too_long(&policy, Duration::MAX, err(429, Some(u64::MAX))),
            Some((u64::MAX, 0))
        );
        assert_eq!(too_long(&policy, Duration::MAX, err(429, None)), None);
    }

    #[test]
    fn retry_after_is_honoured_and_attempts_are_bounded() {
        let policy = RetryPolicy::default();
        let w = wait(&policy, 0, 1, Duration::ZERO, err(429, Some(2))).unwrap();
        assert!(w >= Duration::from_secs(2) && w <= Duration::from_millis(2050));
        assert_eq!(wait(&policy, 0, 30, Duration::ZERO, err(429, Some(1))), None);
        assert_eq!(wait(&policy, 5, 0, Duration::ZERO, err(503, None)), None);
        assert!(wait(&policy, 1, 0, Duration::ZERO, err(503, None)).is_some());
    }

    #[test]
    fn backoff_grows_but_stays_capped_and_within_total_time() {
        let policy = RetryPolicy::default();
        for n in 1..5 {
            let wait = wait(&policy, n, 0, Duration::ZERO, err(502, None)).unwrap();
            assert!(wait <= policy.base_delay * (1 << (n - 1)));
        }
        assert_eq!(wait(&policy, 1, 0, policy.max_elapsed, err(502, None)), None);
    }

    /// A 502, 503 or 504 on POST or DELETE may come from a proxy that
    /// forwarded the request: never resent blindly, but an unknown outcome
    /// for apply to resolve by reading. On GET and PUT it is retried.
    #[test]
    fn a_gateway_error_on_a_write_that_is_not_idempotent_is_an_unknown_outcome() {
        let policy = RetryPolicy::default();
        for status in [500, 502, 503, 504] {
            for method in [Method::Post, Method::Delete, Method::Get, Method::Put] {
                let e = || ApiError {
                    method,
                    ..err(status, None)
                };
                let retried = wait(&policy, 1, 0, Duration::ZERO, e()).is_some();
                assert_eq!(retried, method.is_idempotent(), "{method} {status}");
                assert_eq!(e().outcome_unknown(), method != Method::Get, "{method} {status}");
            }
        }
    }

    #[test]
    fn client_errors_are_never_retried() {
        assert_eq!(
            wait(&RetryPolicy::default(), 1, 0, Duration::ZERO, err(400, None)),
            None
        );
    }
}
