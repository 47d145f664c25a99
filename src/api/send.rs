//! Sending one request of a [`Client`]: a pacer slot, retries for what is safe to repeat
//! ([`RetryPolicy`]), the body read up to the cap, `-v`/`-vv` logs with secrets masked.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use super::client::Client;
use super::{envelope, known_keys, redact_known, ApiError, Failure, Method, KEY_HEADER};
use crate::callback_url::CallbackUrl;
use crate::secret::{mask_url, Masked, Masking};

/// Retry bounds. A 429 is pushback: its own, larger budget, and the pacer slows the whole client.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included, for errors other than 429.
    pub max_attempts: u32,
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

impl RetryPolicy {
    /// The wait after `err`, the `n`th attempt of its kind (429 or not), or `None` (a
    /// `Retry-After` past the budget sets `gave_up`).
    fn next(&self, n: u32, elapsed: Duration, err: &mut ApiError) -> Option<Duration> {
        let max = [self.max_attempts, self.max_throttled_attempts][usize::from(err.is_throttled())];
        if !err.is_retryable() || n >= max {
            return None;
        }
        let left = self.max_elapsed.saturating_sub(elapsed);
        let backoff = (self.base_delay.saturating_mul(1 << n.saturating_sub(1).min(16))).min(self.max_delay);
        let jittered = Duration::from_secs_f64(rand::rng().random_range(0.0..=backoff.as_secs_f64()));
        let wait = match (err.retry_after(), &mut err.failure) {
            (Some(asked), Failure::Status { gave_up, .. }) if Duration::from_secs(asked) > left => {
                *gave_up = Some(left.as_secs());
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

/// Delay-seconds (digits only, saturating) or an HTTP date (0 if past);
/// anything else (`soon`, `-5`, `1e9`) is as if the server had not said.
fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().unwrap_or(u64::MAX));
    }
    let ahead = (httpdate::parse_http_date(value).ok()?).duration_since(std::time::SystemTime::now());
    Some(ahead.map_or(0, |d| d.as_secs()))
}

impl Client {
    /// Sends, retrying what is safe to repeat; after a stop nothing starts ([`Failure::Interrupted`]).
    pub(super) async fn send(&self, method: Method, body: Option<Value>) -> Result<Vec<u8>, ApiError> {
        let (started, options) = (Instant::now(), &self.http.options);
        let stop = &options.stop;
        // Attempts so far: failures other than 429, and 429s.
        let mut attempts = [0u32; 2];
        let mut last: Option<Failure> = None;
        loop {
            let permit = match stop.or(self.pacer.acquire()).await {
                Ok(permit) if !stop.requested() => permit,
                _ => {
                    let after = last.map(Box::new);
                    return Err(self.error(&method, Failure::Interrupted { after }));
                }
            };
            let result = self.send_once(&method, body.as_ref()).await;
            drop(permit);
            let Err(mut err) = result else {
                self.pacer.succeeded();
                return result;
            };
            let (throttled, elapsed) = (err.is_throttled(), started.elapsed());
            let attempt = &mut attempts[usize::from(throttled)];
            *attempt += 1;
            let next = options.retry.next(*attempt, elapsed, &mut err);
            if throttled {
                // The whole client waits what the server asked (1 s if unsaid) within the
                // budget, not at all for a call that gave up over it.
                let left = options.retry.max_elapsed.saturating_sub(elapsed);
                self.pacer.throttled(match &err.failure {
                    Failure::Status { gave_up: Some(_), .. } => Duration::ZERO,
                    _ => Duration::from_secs(err.retry_after().unwrap_or(1)).min(left),
                });
            }
            let Some(delay) = next else { return Err(err) };
            let (ms, limit) = (delay.as_millis(), self.pacer.limit());
            self.log(1, || {
                format!("{err}; retrying in {ms} ms ({limit} requests in flight allowed)")
            });
            last = Some(err.failure);
            // A stop ends the wait, and the next attempt does not start.
            let _ = stop.sleep(delay).await;
        }
    }

    async fn send_once(&self, method: &Method, body: Option<&Value>) -> Result<Vec<u8>, ApiError> {
        let started = Instant::now();
        let (status, headers, bytes) = self.once(method.clone(), None, body).await?;
        let (url, ms) = (self.http.endpoint.as_str(), started.elapsed().as_millis());
        self.log(1, || {
            format!("{method} {} → {} ({ms} ms)", mask_url(url), status.as_u16())
        });
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        if status.is_redirection() {
            let location = header(LOCATION).map(|l| Masked::url(l, Masking::Full, &known_keys()));
            let location = location.map_or_else(|| "(no Location)".into(), Masked::into_string);
            return Err(self.error(method, Failure::Redirect(location)));
        }
        self.log(2, || {
            let shown = serde_json::from_slice(&bytes)
                .map_or_else(|_| format!("({} bytes, not JSON)", bytes.len()), mask_json);
            format!("{method} response: {shown}")
        });
        if status.is_success() {
            return Ok(bytes);
        }
        let message = envelope::message(&bytes);
        let retry_after = header(RETRY_AFTER).and_then(parse_retry_after);
        Err(self.error(
            method,
            Failure::Status {
                status,
                message,
                retry_after,
                gave_up: None,
            },
        ))
    }

    /// One request without pacing or retries, to the resource or `path` at its origin (`doctor`).
    pub async fn once(
        &self,
        method: Method,
        path: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), ApiError> {
        let endpoint = &self.http.endpoint;
        let url = path.map_or_else(|| Ok(endpoint.clone()), |path| endpoint.join(path));
        let url = url.map_err(|e| self.error(&method, Failure::Dropped(e.to_string())))?;
        let mut request =
            (self.http.inner.request(method.clone(), url)).header(KEY_HEADER, self.header.clone());
        if let Some(body) = body {
            self.log(2, || format!("{method} body: {}", mask_json(body.clone())));
            request = (request.header(CONTENT_TYPE, "application/json")).body(body.to_string());
        }
        let response = (request.send().await).map_err(|e| self.error(&method, self.transport(&e)))?;
        let (status, headers) = (response.status(), response.headers().clone());
        Ok((status, headers, self.read_capped(&method, response).await?))
    }

    async fn read_capped(&self, method: &Method, mut response: Response) -> Result<Vec<u8>, ApiError> {
        let cap = self.http.options.max_body;
        let too_large = || self.error(method, Failure::TooLarge(cap));
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) =
            (response.chunk().await).map_err(|e| self.error(method, self.transport(&e)))?
        {
            if bytes.len() + chunk.len() > cap {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn transport(&self, e: &reqwest::Error) -> Failure {
        let mut causes: Vec<String> = std::iter::successors(std::error::Error::source(e), |s| s.source())
            .map(ToString::to_string)
            .collect();
        if causes.is_empty() {
            causes.push(e.to_string());
        }
        causes.dedup();
        let detail = causes.join(": ");
        if e.is_timeout() {
            Failure::Timeout(self.http.options.timeout.as_secs())
        } else if e.is_connect() && detail.contains("certificate") {
            Failure::Tls(detail)
        } else if e.is_connect() {
            let url = &self.http.endpoint;
            let (host, port) = (url.host_str().unwrap_or_default(), url.port_or_known_default());
            Failure::Connect(format!("`{host}:{}`: {detail}", port.unwrap_or_default()))
        } else {
            Failure::Dropped(detail)
        }
    }

    /// The error of a call, with every key scrubbed from the server's words.
    pub(super) fn error(&self, method: &Method, mut failure: Failure) -> ApiError {
        failure.scrub();
        let path = self.http.endpoint.path().to_owned();
        ApiError {
            method: method.clone(),
            path,
            failure,
        }
    }

    fn log(&self, level: u8, line: impl FnOnce() -> String) {
        let options = &self.http.options;
        if options.verbosity >= level {
            (options.log.0)(&redact_known(&line()));
        }
    }
}

/// JSON for `-vv` logs: every string masked as a value (as a URL when it reads as one).
fn mask_json(mut value: Value) -> String {
    fn walk(v: &mut Value, keys: &crate::secret::Keys) {
        match v {
            Value::String(s) if CallbackUrl::read(s).is_some() => {
                *s = Masked::url(s, Masking::Full, keys).into_string();
            }
            Value::String(s) => *s = keys.replace(s).into_owned(),
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, keys)),
            Value::Object(o) => o.values_mut().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    walk(&mut value, &known_keys());
    value.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::apply::CallError as _;

    #[test]
    fn logged_bodies_mask_url_secrets() {
        let body = serde_json::json!({"callbackUrl": "https://u:p@h/x?t=1", "topic": "a"});
        assert_eq!(
            mask_json(body),
            r#"{"callbackUrl":"https://***@h/x?t=***","topic":"a"}"#
        );
    }

    fn err(status: u16, retry_after: Option<u64>) -> ApiError {
        ApiError {
            method: Method::GET,
            path: "/p".into(),
            failure: Failure::Status {
                status: reqwest::StatusCode::from_u16(status).unwrap(),
                message: None,
                retry_after,
                gave_up: None,
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
        let n = if err.is_throttled() { throttled } else { failed };
        policy.next(n, elapsed, &mut err)
    }

    /// What a call that gives up over `Retry-After` becomes: (asked, left).
    fn too_long(policy: &RetryPolicy, elapsed: Duration, mut err: ApiError) -> Option<(u64, u64)> {
        let n = u32::from(err.is_throttled());
        assert_eq!(policy.next(n, elapsed, &mut err), None);
        match err.failure {
            Failure::Status {
                retry_after: Some(asked),
                gave_up: Some(left),
                ..
            } => Some((asked, left)),
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
            for method in [Method::POST, Method::DELETE, Method::GET, Method::PUT] {
                let e = || ApiError {
                    method: method.clone(),
                    ..err(status, None)
                };
                let retried = wait(&policy, 1, 0, Duration::ZERO, e()).is_some();
                assert_eq!(
                    retried,
                    matches!(method, Method::GET | Method::PUT),
                    "{method} {status}"
                );
                assert_eq!(e().outcome_unknown(), method != Method::GET, "{method} {status}");
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
