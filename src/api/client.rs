//! The one [`Http`] pool of a run and a [`Client`] per merchant on it: apply's [`Remote`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::json;
use url::Url;

use super::pace::Pacer;
use super::{envelope, ApiError, ApiKey, Method, RetryPolicy, MAX_BODY_BYTES, RESOURCE};
use crate::apply::Remote;
use crate::callback_url::is_loopback;
use crate::model::LiveSubscription;
use crate::plan::Fields;
use crate::stop::Stop;

/// Where log lines go (`-v`: requests, `-vv`: bodies); stderr in the CLI.
#[derive(Clone)]
pub struct LogSink(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSink")
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Of one request.
    pub timeout: Duration,
    /// 0 silent, 1 requests, 2 bodies too.
    pub verbosity: u8,
    pub log: LogSink,
    pub retry: RetryPolicy,
    pub max_body: usize,
    /// Trusted besides the built-in roots (`--ca-cert`, `SSL_CERT_FILE`).
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Plain http to a host that is not loopback (`BaseUrl::insecure`).
    pub insecure_http: bool,
    pub stop: Stop,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            verbosity: 0,
            log: LogSink(Arc::new(|_| {})),
            retry: RetryPolicy::default(),
            max_body: MAX_BODY_BYTES,
            extra_roots: Vec::new(),
            insecure_http: false,
            stop: Stop::default(),
        }
    }
}

/// One pool, TLS roots and redirect policy for every merchant; each [`Client`] adds its key.
#[derive(Debug, Clone)]
pub struct Http {
    pub(super) inner: reqwest::Client,
    pub(super) endpoint: Url,
    pub(super) options: Arc<ClientOptions>,
}

impl Http {
    pub fn new(base: &Url, options: ClientOptions) -> anyhow::Result<Self> {
        let endpoint = base.join(RESOURCE)?;
        let roots = options.extra_roots.iter().cloned();
        let mut builder = roots.fold(reqwest::Client::builder(), |b, root| b.add_root_certificate(root));
        if endpoint.scheme() == "http" {
            // A proxy (HTTP_PROXY) would carry the key off the machine in clear text.
            builder = builder.no_proxy();
        }
        let origin = endpoint.origin();
        let inner = builder
            .user_agent(concat!("invhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .https_only(!is_loopback(&endpoint) && !options.insecure_http)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                // Only 307/308 keep method and body: a write turned into a GET by a
                // 301/302/303 would look done without happening.
                let same = attempt.url().origin() == origin && matches!(attempt.status().as_u16(), 307 | 308);
                match attempt.previous().len() {
                    5.. => attempt.error("too many redirects"),
                    _ if same => attempt.follow(),
                    _ => attempt.stop(),
                }
            }))
            .build()?;
        Ok(Self {
            inner,
            endpoint,
            options: Arc::new(options),
        })
    }

    /// A client for one merchant, with a pacer of its own (servers rate-limit per key).
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        let mut header = HeaderValue::from_str(&key.0)
            .map_err(|_| anyhow::anyhow!("the API key contains characters not allowed in an HTTP header"))?;
        header.set_sensitive(true);
        let (http, pacer) = (self.clone(), Arc::default());
        Ok(Client { http, pacer, header })
    }
}

/// One merchant's client on the run's [`Http`] pool.
#[derive(Debug, Clone)]
pub struct Client {
    pub(super) http: Http,
    pub(super) pacer: Arc<Pacer>,
    /// The key, a sensitive header value.
    pub(super) header: HeaderValue,
}

impl Remote for Client {
    type Error = ApiError;

    async fn list(&self) -> Result<Vec<LiveSubscription>, ApiError> {
        let body = self.send(Method::GET, None).await?;
        envelope::parse_list(&body).map_err(|e| self.error(&Method::GET, e.into()))
    }

    async fn create(&self, new: &Fields) -> Result<Option<String>, ApiError> {
        let body = json!({ "topic": new.topic, "name": new.name, "callbackUrl": new.callback_url });
        let answer = self.send(Method::POST, Some(body)).await?;
        Ok(envelope::parse_one(&answer).map(|s| s.id))
    }

    async fn update(&self, id: &str, new: &Fields) -> Result<(), ApiError> {
        let body = json!({ "topic": new.topic, "id": id, "name": new.name, "callbackUrl": new.callback_url });
        self.send(Method::PUT, Some(body)).await.map(drop)
    }

    async fn delete(&self, id: &str, topic: &str) -> Result<(), ApiError> {
        let body = json!({ "topic": topic, "id": id });
        self.send(Method::DELETE, Some(body)).await.map(drop)
    }
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
        let key = ApiKey::new("endpoint-test-key".into());
        let client = Http::new(&base, ClientOptions::default())
            .unwrap()
            .client(&key)
            .unwrap();
        assert_eq!(
            client.http.endpoint.as_str(),
            "https://public.inveterateapi.com/v2.0/admin/webhook-subscriptions"
        );
    }
}
