//! The one [`Http`] pool of a run (extra TLS roots, no proxy for plain
//! http, the redirect policy), a [`Client`] per merchant on it (its key as a
//! sensitive header on each request), and the four verbs of the one
//! resource. Sending lives in `send.rs`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Serialize;
use url::Url;

use super::base_url::is_loopback;
use super::{envelope, pace, ApiError, ApiKey, Method, RetryPolicy, MAX_BODY_BYTES, RESOURCE};
use crate::model::LiveSubscription;
use crate::stop::Stop;

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
    /// container the user opted in to; see `base_url.rs`).
    pub insecure_http: bool,
    /// The run's cancellation token: once requested, no request starts and
    /// every backoff and pacing wait ends at once.
    pub stop: Stop,
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
            .field("stop", &self.stop.requested())
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
            stop: Stop::default(),
        }
    }
}

/// The one HTTP client of a run: one connection pool, one set of TLS roots
/// (the CA bundle is read once), one redirect policy, for every merchant.
/// It carries no key: each [`Client`] adds its own to every request.
#[derive(Debug, Clone)]
pub struct Http {
    inner: reqwest::Client,
    endpoint: Url,
    /// Shared by every merchant's client: one copy of the TLS roots.
    options: Arc<ClientOptions>,
}

impl Http {
    /// Builds the shared client for the resource under `base`.
    pub fn new(base: &Url, options: ClientOptions) -> anyhow::Result<Self> {
        let endpoint = base.join(RESOURCE)?;
        let mut builder = reqwest::Client::builder();
        for root in &options.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if endpoint.scheme() == "http" {
            // Plain http is allowed only on loopback; a proxy (HTTP_PROXY)
            // would carry the key off the machine in clear text.
            builder = builder.no_proxy();
        }
        let inner = builder
            .user_agent(concat!("invhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .https_only(!is_loopback(&endpoint) && !options.insecure_http)
            .redirect(redirect_policy(endpoint.origin()))
            .build()?;
        Ok(Self {
            inner,
            endpoint,
            options: Arc::new(options),
        })
    }

    /// A client for one merchant: this pool, `key` on every request, and a
    /// pacer of its own (servers rate-limit per key).
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        let mut header = HeaderValue::from_str(&key.0)
            .map_err(|_| anyhow::anyhow!("the API key contains characters not allowed in an HTTP header"))?;
        header.set_sensitive(true);
        Ok(Client {
            http: self.inner.clone(),
            path: self.endpoint.path().to_owned(),
            endpoint: self.endpoint.clone(),
            options: self.options.clone(),
            pacer: Arc::default(),
            header,
        })
    }
}

/// A client for one merchant (one key), sharing the run's [`Http`] pool.
#[derive(Debug, Clone)]
pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) endpoint: Url,
    pub(super) path: String,
    pub(super) options: Arc<ClientOptions>,
    pub(super) pacer: Arc<pace::Pacer>,
    /// The key as a sensitive header value, sent with every request.
    pub(super) header: HeaderValue,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Body<'a> {
    topic: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

impl Client {
    /// Builds a client with a pool of its own, for the resource under
    /// `base` with `key` (one merchant; a run of many shares one [`Http`]).
    pub fn new(base: &Url, key: &ApiKey, options: ClientOptions) -> anyhow::Result<Self> {
        Http::new(base, options)?.client(key)
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
}

/// Follows at most 5 redirects, and only same-origin 307/308 ones.
fn redirect_policy(origin: url::Origin) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
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
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoint_keeps_the_version_prefix() {
        let base = crate::api::BaseUrl::parse("https://public.inveterateapi.com/v2.0", None)
            .unwrap()
            .url;
        let client = Client::new(
            &base,
            &ApiKey::new("endpoint-test-key".into()),
            ClientOptions::default(),
        )
        .unwrap();
        assert_eq!(
            client.endpoint.as_str(),
            "https://public.inveterateapi.com/v2.0/admin/webhook-subscriptions"
        );
    }
}
