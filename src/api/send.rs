//! Sending one request of a [`Client`]: a [`super::pace::Pacer`] slot,
//! the request, retries for what is safe to repeat ([`RetryPolicy`]),
//! redirects refused, the body read up to the cap, `-v`/`-vv` logs with the
//! key scrubbed and URL secrets masked.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::client::{Body, Client};
use tokio::time::Instant;

use super::retry::Next;
use super::{envelope, known_keys, redact_known, retry, ApiError, Failure, Method, KEY_HEADER};
use crate::callback_url::CallbackUrl;
use crate::secret::{mask_url, Keys, Masked, Masking};

impl Client {
    /// Sends with retries for failures that are safe to repeat.
    /// Once the run's [`crate::stop::Stop`] is requested no attempt starts
    /// and no wait goes on: [`Failure::Interrupted`].
    pub(super) async fn send(&self, method: Method, body: Option<&Body<'_>>) -> Result<Vec<u8>, ApiError> {
        let started = Instant::now();
        let mut attempts = retry::Attempts::default();
        let mut last: Option<Failure> = None;
        let stop = &self.options.stop;
        loop {
            let interrupted = |last: Option<Failure>| {
                let after = last.map(Box::new);
                self.error(method, Failure::Interrupted { after })
            };
            let Ok(permit) = stop.or(self.pacer.acquire()).await else {
                return Err(interrupted(last));
            };
            if stop.requested() {
                return Err(interrupted(last));
            }
            let result = self.send_once(method, body).await;
            drop(permit);
            let err = match result {
                Ok(bytes) => {
                    self.pacer.succeeded();
                    return Ok(bytes);
                }
                Err(err) => err,
            };
            if err.is_throttled() {
                attempts.throttled += 1;
            } else {
                attempts.failed += 1;
            }
            let elapsed = started.elapsed();
            let next = self.options.retry.next(attempts, elapsed, &err);
            if err.is_throttled() {
                self.pacer.throttled(self.pause(&err, next, elapsed));
            }
            let delay = match next {
                Next::Wait(delay) => delay,
                Next::GiveUp => return Err(err),
                Next::TooLong { asked, left } => return Err(too_long(err, asked, left)),
            };
            self.log(
                1,
                &format!(
                    "{err}; retrying in {} ms ({} requests in flight allowed)",
                    delay.as_millis(),
                    self.pacer.limit()
                ),
            );
            last = Some(err.failure);
            if stop.sleep(delay).await.is_err() {
                return Err(interrupted(last));
            }
        }
    }

    /// How long the pacer holds every request of this client after a 429:
    /// what the server asked (1 s if it did not say), never more than is
    /// left of this call's retry budget, and not at all when this call
    /// gives up because the server asked for more than that.
    fn pause(&self, err: &ApiError, next: Next, elapsed: Duration) -> Duration {
        if matches!(next, Next::TooLong { .. }) {
            return Duration::ZERO;
        }
        let left = self.options.retry.max_elapsed.saturating_sub(elapsed);
        Duration::from_secs(err.retry_after().unwrap_or(1)).min(left)
    }

    async fn send_once(&self, method: Method, body: Option<&Body<'_>>) -> Result<Vec<u8>, ApiError> {
        let request = self.request(method, body)?;
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| self.error(method, self.transport(&e)))?;
        let status = response.status();
        self.log(
            1,
            &format!(
                "{method} {} → {} ({} ms)",
                mask_url(self.endpoint.as_str()),
                status.as_u16(),
                started.elapsed().as_millis()
            ),
        );
        if status.is_redirection() {
            let location = header(&response, reqwest::header::LOCATION)
                .map(|l| Masked::url(l, Masking::Full, &known_keys()).into_string())
                .unwrap_or_else(|| "(no Location)".into());
            return Err(self.error(method, Failure::Redirect(location)));
        }
        let retry_after = header(&response, RETRY_AFTER).and_then(retry::parse_retry_after);
        let bytes = self.read_capped(method, response).await?;
        if self.options.verbosity >= 2 {
            self.log(2, &format!("{method} response: {}", mask_body(&bytes)));
        }
        if status.is_success() {
            return Ok(bytes);
        }
        let message = envelope::message(&bytes);
        Err(self.error(
            method,
            Failure::Status {
                status,
                message,
                retry_after,
            },
        ))
    }

    /// The request for `method`, with `body` as JSON (logged at `-vv`).
    fn request(&self, method: Method, body: Option<&Body<'_>>) -> Result<reqwest::RequestBuilder, ApiError> {
        let verb = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let request = self
            .http
            .request(verb, self.endpoint.clone())
            .header(KEY_HEADER, self.header.clone());
        let Some(body) = body else {
            return Ok(request);
        };
        let json =
            serde_json::to_vec(body).map_err(|e| self.error(method, Failure::Dropped(e.to_string())))?;
        if self.options.verbosity >= 2 {
            self.log(2, &format!("{method} body: {}", mask_body(&json)));
        }
        Ok(request.header(CONTENT_TYPE, "application/json").body(json))
    }

    /// POSTs `body` once (no retries) to `path` at the base URL's origin
    /// with this merchant's key: the sandbox's own routes (`trigger`). The
    /// status and the body, capped like every answer; errors are scrubbed.
    pub async fn post_once(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), ApiError> {
        let method = Method::Post;
        let url = self
            .endpoint
            .join(path)
            .map_err(|e| self.error(method, Failure::Dropped(e.to_string())))?;
        let response = self
            .http
            .post(url)
            .header(KEY_HEADER, self.header.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.error(method, self.transport(&e)))?;
        let status = response.status();
        Ok((status, self.read_capped(method, response).await?))
    }

    /// GETs the list once (no pacing, no retries): the status, headers and
    /// body (capped like every answer) as the API sent them, for `doctor`,
    /// which reports what the API answers rather than what retries made of it.
    pub async fn get_once(
        &self,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), ApiError> {
        let method = Method::Get;
        let response = self.request(method, None)?.send().await;
        let response = response.map_err(|e| self.error(method, self.transport(&e)))?;
        let (status, headers) = (response.status(), response.headers().clone());
        Ok((status, headers, self.read_capped(method, response).await?))
    }

    async fn read_capped(
        &self,
        method: Method,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let cap = self.options.max_body;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(self.error(method, Failure::TooLarge(cap)));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.error(method, self.transport(&e)))?
        {
            if bytes.len() + chunk.len() > cap {
                return Err(self.error(method, Failure::TooLarge(cap)));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn transport(&self, e: &reqwest::Error) -> Failure {
        let detail = error_chain(e);
        if e.is_timeout() {
            Failure::Timeout(self.options.timeout.as_secs())
        } else if e.is_connect() && detail.contains("certificate") {
            Failure::Tls(detail)
        } else if e.is_connect() {
            let host = self.endpoint.host_str().unwrap_or_default();
            let port = self.endpoint.port_or_known_default().unwrap_or_default();
            Failure::Connect(format!("`{host}:{port}`: {detail}"))
        } else {
            Failure::Dropped(detail)
        }
    }

    pub(super) fn error(&self, method: Method, mut failure: Failure) -> ApiError {
        failure.scrub();
        ApiError {
            method,
            path: self.path.clone(),
            failure,
        }
    }

    fn log(&self, level: u8, line: &str) {
        if self.options.verbosity >= level {
            (self.options.log)(&redact_known(line));
        }
    }
}

/// `err` (a 429 or 503) as the failure "the server asked to wait `asked`
/// seconds, more than the `left` of the retry budget".
fn too_long(err: ApiError, asked: u64, left: Duration) -> ApiError {
    let ApiError {
        method,
        path,
        failure,
    } = err;
    let failure = match failure {
        Failure::Status { status, message, .. } => Failure::WaitTooLong {
            status,
            message,
            asked,
            left: left.as_secs(),
        },
        other => other,
    };
    ApiError {
        method,
        path,
        failure,
    }
}

/// A response header as text, if present and printable.
fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The chain of causes of a transport error, without the URL.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.dedup();
    parts.join(": ")
}

/// A body for `-vv` logs: JSON with every string masked as a value, as a
/// URL when it reads as one, with every key read so far.
fn mask_body(bytes: &[u8]) -> String {
    fn walk(v: &mut serde_json::Value, keys: &Keys) {
        match v {
            serde_json::Value::String(s) if CallbackUrl::read(s).is_some() => {
                *s = Masked::url(s, Masking::Full, keys).into_string();
            }
            serde_json::Value::String(s) => *s = keys.replace(s).into_owned(),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk(v, keys)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(mut value) => {
            walk(&mut value, &known_keys());
            value.to_string()
        }
        Err(_) => format!("({} bytes, not JSON)", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_bodies_mask_url_secrets() {
        let body = br#"{"callbackUrl":"https://u:p@h/x?t=1","topic":"a"}"#;
        assert_eq!(
            mask_body(body),
            r#"{"callbackUrl":"https://***@h/x?t=***","topic":"a"}"#
        );
    }
}
