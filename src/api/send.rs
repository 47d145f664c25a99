//! Sending one request of a [`Client`]: a pacer slot, the request, retries
//! for what is safe to repeat ([`super::RetryPolicy`]), redirects refused,
//! the body read up to the cap, `-v`/`-vv` logs with keys and URL secrets
//! masked.

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::client::Client;
use super::retry::{parse_retry_after, Attempts};
use super::{envelope, known_keys, redact_known, ApiError, Failure, Method, KEY_HEADER};
use crate::callback_url::CallbackUrl;
use crate::secret::{mask_url, Masked, Masking};

impl Client {
    /// Sends with retries for failures that are safe to repeat. Once the
    /// run's stop is requested no attempt starts and no wait goes on
    /// ([`Failure::Interrupted`]).
    pub(super) async fn send(&self, method: Method, body: Option<Value>) -> Result<Vec<u8>, ApiError> {
        let (started, options) = (Instant::now(), &self.http.options);
        let stop = &options.stop;
        let mut attempts = Attempts::default();
        let mut last: Option<Failure> = None;
        loop {
            let interrupted = |last: Option<Failure>| {
                let after = last.map(Box::new);
                self.error(method, Failure::Interrupted { after })
            };
            let permit = match stop.or(self.pacer.acquire()).await {
                Ok(permit) if !stop.requested() => permit,
                _ => return Err(interrupted(last)),
            };
            let result = self.send_once(method, body.as_ref()).await;
            drop(permit);
            let mut err = match result {
                Ok(bytes) => {
                    self.pacer.succeeded();
                    return Ok(bytes);
                }
                Err(err) => err,
            };
            let throttled = err.is_throttled();
            *match throttled {
                true => &mut attempts.throttled,
                false => &mut attempts.failed,
            } += 1;
            let elapsed = started.elapsed();
            let next = options.retry.next(attempts, elapsed, &mut err);
            if throttled {
                // Every request of this client waits what the server asked
                // (1 s if it did not say), within what is left of the
                // budget; not at all for a call that gave up over it.
                let left = options.retry.max_elapsed.saturating_sub(elapsed);
                self.pacer.throttled(match &err.failure {
                    Failure::WaitTooLong { .. } => Duration::ZERO,
                    _ => Duration::from_secs(err.retry_after().unwrap_or(1)).min(left),
                });
            }
            let Some(delay) = next else { return Err(err) };
            self.log(1, || {
                let limit = self.pacer.limit();
                format!(
                    "{err}; retrying in {} ms ({limit} requests in flight allowed)",
                    delay.as_millis()
                )
            });
            last = Some(err.failure);
            if stop.sleep(delay).await.is_err() {
                return Err(interrupted(last));
            }
        }
    }

    async fn send_once(&self, method: Method, body: Option<&Value>) -> Result<Vec<u8>, ApiError> {
        let started = Instant::now();
        let response = self.exchange(method, self.http.endpoint.clone(), body).await?;
        let status = response.status();
        self.log(1, || {
            let (url, ms) = (
                mask_url(self.http.endpoint.as_str()),
                started.elapsed().as_millis(),
            );
            format!("{method} {url} → {} ({ms} ms)", status.as_u16())
        });
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        if status.is_redirection() {
            let location = header(LOCATION).map(|l| Masked::url(l, Masking::Full, &known_keys()));
            let location = location.map_or_else(|| "(no Location)".into(), Masked::into_string);
            return Err(self.error(method, Failure::Redirect(location)));
        }
        let retry_after = header(RETRY_AFTER).and_then(parse_retry_after);
        let bytes = self.read_capped(method, response).await?;
        self.log(2, || {
            let shown = serde_json::from_slice(&bytes)
                .map_or_else(|_| format!("({} bytes, not JSON)", bytes.len()), mask_json);
            format!("{method} response: {shown}")
        });
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

    /// One request to `url` with this merchant's key and `body` as JSON
    /// (logged at `-vv`), without pacing or retries.
    async fn exchange(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Response, ApiError> {
        let verb = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self
            .http
            .inner
            .request(verb, url)
            .header(KEY_HEADER, self.header.clone());
        if let Some(body) = body {
            self.log(2, || format!("{method} body: {}", mask_json(body.clone())));
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        request
            .send()
            .await
            .map_err(|e| self.error(method, self.transport(&e)))
    }

    /// POSTs `body` once to `path` at the base URL's origin with this
    /// merchant's key: the sandbox's own routes (`trigger`). The status and
    /// the body, capped like every answer.
    pub async fn post_once(&self, path: &str, body: &Value) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let url = self.http.endpoint.join(path);
        let url = url.map_err(|e| self.error(Method::Post, Failure::Dropped(e.to_string())))?;
        let response = self.exchange(Method::Post, url, Some(body)).await?;
        Ok((response.status(), self.read_capped(Method::Post, response).await?))
    }

    /// GETs the list once: the answer as the API sent it (the body capped),
    /// for `doctor`, which reports what the API says, not what retries made of it.
    pub async fn get_once(&self) -> Result<(StatusCode, HeaderMap, Vec<u8>), ApiError> {
        let response = self
            .exchange(Method::Get, self.http.endpoint.clone(), None)
            .await?;
        let (status, headers) = (response.status(), response.headers().clone());
        Ok((status, headers, self.read_capped(Method::Get, response).await?))
    }

    async fn read_capped(&self, method: Method, mut response: Response) -> Result<Vec<u8>, ApiError> {
        let cap = self.http.options.max_body;
        let too_large = || self.error(method, Failure::TooLarge(cap));
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.error(method, self.transport(&e)))?
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
            let endpoint = &self.http.endpoint;
            let (host, port) = (
                endpoint.host_str().unwrap_or_default(),
                endpoint.port_or_known_default(),
            );
            Failure::Connect(format!("`{host}:{}`: {detail}", port.unwrap_or_default()))
        } else {
            Failure::Dropped(detail)
        }
    }

    /// The error of a call, with every key scrubbed from the server's words.
    pub(super) fn error(&self, method: Method, mut failure: Failure) -> ApiError {
        failure.scrub();
        let path = self.http.endpoint.path().to_owned();
        ApiError {
            method,
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

/// JSON for `-vv` logs: every string masked as a value (as a URL when it
/// reads as one) with every key read so far.
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
    use super::*;

    #[test]
    fn logged_bodies_mask_url_secrets() {
        let body = serde_json::json!({"callbackUrl": "https://u:p@h/x?t=1", "topic": "a"});
        assert_eq!(
            mask_json(body),
            r#"{"callbackUrl":"https://***@h/x?t=***","topic":"a"}"#
        );
    }
}
