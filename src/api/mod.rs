//! The HTTP client of Inveterate's webhook-subscriptions API: one resource,
//! four verbs, the `{message, data}` envelope, the key in a header.
//!
//! Security rules live here, where the key is used: the key is sent only to
//! the base URL's origin (`https://`, or `http://` on loopback), redirects to
//! another origin are refused, bodies are capped, and the key never appears
//! in a log line or an error.

pub mod envelope;
mod error;
pub mod pace;
mod redact;
mod retry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use url::Url;

pub use error::{ApiError, Failure, Method};
pub use redact::redact_known;
pub use retry::{Attempts, RetryPolicy};

use crate::model::LiveSubscription;
use crate::secret::mask_url;

/// The resource path under the base URL.
pub const RESOURCE: &str = "admin/webhook-subscriptions";
/// The header that carries the key.
pub const KEY_HEADER: &str = "X-Inveterate-Api-Key";
/// Default base URL of the real API.
pub const DEFAULT_BASE_URL: &str = "https://public.inveterateapi.com/v2.0";
/// Largest response body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A merchant's private API key. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from the environment.
    pub fn new(key: String) -> Self {
        redact::remember(&key);
        Self(key)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Where log lines go (`-v`: requests, `-vv`: bodies); stderr in the CLI.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Settings of a [`Client`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Timeout of one request.
    pub timeout: Duration,
    /// 0 silent, 1 requests, 2 bodies too.
    pub verbosity: u8,
    /// Where log lines go.
    pub log: LogSink,
    /// How often and how long to retry.
    pub retry: RetryPolicy,
    /// Largest response body read ([`MAX_BODY_BYTES`]); larger is an error.
    pub max_body: usize,
    /// CA certificates trusted in addition to the built-in roots
    /// (`--ca-cert`, `SSL_CERT_FILE`). Verification itself is always on.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Allow a plain-http base URL to a non-loopback host (a sandbox service
    /// container the user opted in to; see `commands::base_url`).
    pub insecure_http: bool,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("verbosity", &self.verbosity)
            .field("retry", &self.retry)
            .field("max_body", &self.max_body)
            .field("extra_roots", &self.extra_roots.len())
            .field("insecure_http", &self.insecure_http)
            .finish_non_exhaustive()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            verbosity: 0,
            log: Arc::new(|_| {}),
            retry: RetryPolicy::default(),
            max_body: MAX_BODY_BYTES,
            extra_roots: Vec::new(),
            insecure_http: false,
        }
    }
}

/// Errors in the base URL, found before any request is made.
#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error("base URL `{0}` is not a valid URL: {1}")]
    Invalid(String, url::ParseError),
    /// Plain HTTP to a non-loopback host would expose the key.
    #[error("base URL `{0}` is not https; the API key must not travel in clear text (plain http is allowed only for loopback hosts such as the sandbox)")]
    Insecure(String),
    /// A scheme other than http(s), or no host.
    #[error("base URL `{0}` must be an https:// URL with a host")]
    Unsupported(String),
}

/// Parses and checks a base URL: https, or http on a loopback host.
pub fn parse_base_url(raw: &str) -> Result<Url, BaseUrlError> {
    let shown = mask_url(raw);
    let mut url = Url::parse(raw).map_err(|e| BaseUrlError::Invalid(shown.clone(), e))?;
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(BaseUrlError::Insecure(shown)),
        _ => return Err(BaseUrlError::Unsupported(shown)),
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A client for one merchant (one key).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Url,
    path: String,
    options: ClientOptions,
    pacer: Arc<pace::Pacer>,
    /// Kept only to scrub it from anything the server echoes back.
    key: ApiKey,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    topic: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

impl Client {
    /// Builds a client for the resource under `base` with `key`.
    pub fn new(base: &Url, key: &ApiKey, options: ClientOptions) -> anyhow::Result<Self> {
        let endpoint = base.join(RESOURCE)?;
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(&key.0)
            .map_err(|_| anyhow::anyhow!("the API key contains characters not allowed in an HTTP header"))?;
        value.set_sensitive(true);
        headers.insert(KEY_HEADER, value);
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("invhooks/", env!("CARGO_PKG_VERSION"))),
        );
        let origin = endpoint.origin();
        let mut builder = reqwest::Client::builder();
        for root in &options.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if endpoint.scheme() == "http" {
            // Plain http is allowed only on loopback; a proxy (HTTP_PROXY)
            // would carry the key off the machine in clear text.
            builder = builder.no_proxy();
        }
        let http = builder
            .default_headers(headers)
            .timeout(options.timeout)
            .https_only(!is_loopback(&endpoint) && !options.insecure_http)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    attempt.error("too many redirects")
                } else if attempt.url().origin() == origin && matches!(attempt.status().as_u16(), 307 | 308) {
                    // Only 307/308 keep the method and body: reqwest turns a
                    // 301/302/303 after POST/PUT/DELETE into a GET, which
                    // would make a write look done without happening.
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()?;
        Ok(Self {
            path: endpoint.path().to_owned(),
            http,
            endpoint,
            options,
            pacer: Arc::default(),
            key: key.clone(),
        })
    }

    /// All subscriptions of the merchant: exactly one successful GET.
    pub async fn list(&self) -> Result<Vec<LiveSubscription>, ApiError> {
        let body = self.send(Method::Get, None).await?;
        envelope::parse_list(&body).map_err(|e| self.error(Method::Get, e.into()))
    }

    /// Creates a subscription; returns it when the server echoes it back.
    pub async fn create(
        &self,
        topic: &str,
        name: &str,
        url: &str,
    ) -> Result<Option<LiveSubscription>, ApiError> {
        let body = Body {
            topic,
            id: None,
            name: Some(name),
            callback_url: Some(url),
        };
        let response = self.send(Method::Post, Some(&body)).await?;
        Ok(envelope::parse_one(&response))
    }

    /// Sets the callback URL (and name) of subscription `id`.
    pub async fn update(&self, id: &str, topic: &str, name: &str, url: &str) -> Result<(), ApiError> {
        let body = Body {
            topic,
            id: Some(id),
            name: Some(name),
            callback_url: Some(url),
        };
        self.send(Method::Put, Some(&body)).await.map(drop)
    }

    /// Deletes subscription `id`.
    pub async fn delete(&self, id: &str, topic: &str) -> Result<(), ApiError> {
        let body = Body {
            topic,
            id: Some(id),
            name: None,
            callback_url: None,
        };
        self.send(Method::Delete, Some(&body)).await.map(drop)
    }

    /// Sends with retries for failures that are safe to repeat.
    async fn send(&self, method: Method, body: Option<&Body<'_>>) -> Result<Vec<u8>, ApiError> {
        let started = Instant::now();
        let mut attempts = retry::Attempts::default();
        loop {
            let permit = self.pacer.acquire().await;
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
                self.pacer
                    .throttled(Duration::from_secs(err.retry_after().unwrap_or(1)));
            } else {
                attempts.failed += 1;
            }
            let Some(delay) = self.options.retry.delay(attempts, started.elapsed(), &err) else {
                return Err(err);
            };
            self.log(
                1,
                &format!(
                    "{err}; retrying in {} ms ({} requests in flight allowed)",
                    delay.as_millis(),
                    self.pacer.limit()
                ),
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, method: Method, body: Option<&Body<'_>>) -> Result<Vec<u8>, ApiError> {
        let verb = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut request = self.http.request(verb, self.endpoint.clone());
        if let Some(body) = body {
            let json =
                serde_json::to_vec(body).map_err(|e| self.error(method, Failure::Dropped(e.to_string())))?;
            if self.options.verbosity >= 2 {
                self.log(2, &format!("{method} body: {}", mask_body(&json)));
            }
            request = request.header(CONTENT_TYPE, "application/json").body(json);
        }
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
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(mask_url)
                .unwrap_or_else(|| "(no Location)".into());
            return Err(self.error(method, Failure::Redirect(location)));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry::parse_retry_after);
        let bytes = self.read_capped(method, response).await?;
        if self.options.verbosity >= 2 {
            self.log(2, &format!("{method} response: {}", mask_body(&bytes)));
        }
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(self.error(
                method,
                Failure::Status {
                    status,
                    message: envelope::message(&bytes),
                    retry_after,
                },
            ))
        }
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

    fn error(&self, method: Method, failure: Failure) -> ApiError {
        ApiError {
            method,
            path: self.path.clone(),
            failure: redact::scrub_failure(failure, &self.key.0),
        }
    }

    fn log(&self, level: u8, line: &str) {
        if self.options.verbosity >= level {
            (self.options.log)(&redact::scrub(line, &self.key.0));
        }
    }
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

/// A body for `-vv` logs: JSON with every `callbackUrl`-like string masked.
fn mask_body(bytes: &[u8]) -> String {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = mask_url(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(mut value) => {
            walk(&mut value);
            value.to_string()
        }
        Err(_) => format!("({} bytes, not JSON)", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        assert!(parse_base_url("https://public.inveterateapi.com/v2.0").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8787/v2.0").is_ok());
        assert!(parse_base_url("http://localhost/v2.0").is_ok());
        assert!(parse_base_url("http://[::1]:1/v2.0").is_ok());
        assert!(matches!(
            parse_base_url("http://example.com/v2.0"),
            Err(BaseUrlError::Insecure(_))
        ));
        assert!(matches!(
            parse_base_url("ftp://example.com"),
            Err(BaseUrlError::Unsupported(_))
        ));
        assert!(matches!(parse_base_url("nope"), Err(BaseUrlError::Invalid(..))));
    }

    #[test]
    fn endpoint_keeps_the_version_prefix() {
        let base = parse_base_url("https://public.inveterateapi.com/v2.0").unwrap();
        let client = Client::new(&base, &ApiKey::new("k".into()), ClientOptions::default()).unwrap();
        assert_eq!(
            client.endpoint.as_str(),
            "https://public.inveterateapi.com/v2.0/admin/webhook-subscriptions"
        );
    }

    #[test]
    fn key_debug_is_masked() {
        assert_eq!(format!("{:?}", ApiKey::new("sk_live_123".into())), "ApiKey(***)");
    }

    #[test]
    fn logged_bodies_mask_url_secrets() {
        let body = br#"{"callbackUrl":"https://u:p@h/x?t=1","topic":"a"}"#;
        assert_eq!(
            mask_body(body),
            r#"{"callbackUrl":"https://***@h/x?t=***","topic":"a"}"#
        );
    }
}
