//! The sandbox's deliveries (README "Test your receiver in CI"): an event
//! triggered with `POST /_sandbox/trigger` is POSTed to every callback URL
//! of that topic of that merchant, in Inveterate's shape
//! ([`crate::delivery::envelope`]), from tasks the sandbox owns. A non-2xx
//! answer or no answer is retried with doubling backoff, `retryCount`
//! counting up and `metadata.id` the same, at most
//! [`DeliveryConfig::attempts`] times; every attempt is logged (the last
//! [`LOG_LIMIT`]) for `GET /_sandbox/deliveries`. Receivers get the body
//! and `content-type` only: never a key, no proxy, no redirect followed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::config::DeliveryConfig;
use crate::callback_url::CallbackUrl;
use crate::delivery::{self, Event};

/// Attempts kept in the log; older ones are dropped (and counted).
pub(crate) const LOG_LIMIT: usize = 10_000;
/// Delivery attempts in flight at once, over all events.
const IN_FLIGHT: usize = 64;

/// One event on its way: what every attempt of every target sends.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// `metadata.id`, `evt_000001`, … per sandbox run.
    pub(crate) id: String,
    pub(crate) topic: String,
    pub(crate) merchant_id: String,
    /// `metadata.shopDomain`: `sandbox-<merchant digest>.myshopify.com`.
    pub(crate) shop_domain: String,
    /// `metadata.triggerredAt`, RFC 3339.
    pub(crate) at: String,
    pub(crate) payload: Value,
}

/// One subscription an event goes to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) subscription_id: String,
    pub(crate) callback_url: String,
}

/// One attempt, as `GET /_sandbox/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    id: String,
    merchant_id: String,
    topic: String,
    subscription_id: String,
    callback_url: String,
    attempt: u32,
    retry_count: u32,
    /// The receiver's status, when it answered.
    status: Option<u16>,
    /// Why there was no answer (timeout, refused connection, …).
    error: Option<String>,
    /// A 2xx answer: no further attempt.
    delivered: bool,
    at: String,
}

/// The bounded log of attempts.
#[derive(Debug, Default)]
struct Log {
    attempts: VecDeque<Attempt>,
    dropped: u64,
}

/// Sends events and keeps the log; shared by every request.
#[derive(Debug)]
pub(crate) struct Deliveries {
    config: DeliveryConfig,
    http: reqwest::Client,
    next_event: AtomicU64,
    /// Targets whose last attempt is still to come.
    pending: AtomicUsize,
    log: Mutex<Log>,
    slots: Arc<Semaphore>,
    tasks: Mutex<JoinSet<()>>,
}

impl Deliveries {
    /// A sender with `config`'s bounds; fails only if no HTTP client can
    /// be built.
    pub(crate) fn new(config: DeliveryConfig) -> anyhow::Result<Deliveries> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("invhooks-sandbox/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Deliveries {
            config: DeliveryConfig {
                attempts: config.attempts.max(1),
                ..config
            },
            http,
            next_event: AtomicU64::new(1),
            pending: AtomicUsize::new(0),
            log: Mutex::default(),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            tasks: Mutex::default(),
        })
    }

    /// The next event id: `evt_000001`, `evt_000002`, …
    pub(crate) fn next_id(&self) -> String {
        format!("evt_{:06}", self.next_event.fetch_add(1, Ordering::Relaxed))
    }

    /// Starts delivering `event` to every target, one task each, on the
    /// current runtime; returns at once.
    pub(crate) fn start(self: &Arc<Self>, event: Outgoing, targets: Vec<Target>) {
        let event = Arc::new(event);
        self.pending.fetch_add(targets.len(), Ordering::SeqCst);
        let mut tasks = lock(&self.tasks);
        // Forget the tasks that are done.
        while tasks.try_join_next().is_some() {}
        for target in targets {
            tasks.spawn(Arc::clone(self).deliver(Arc::clone(&event), target));
        }
    }

    /// Tries one target until a 2xx answer or the last attempt.
    async fn deliver(self: Arc<Self>, event: Arc<Outgoing>, target: Target) {
        for retry_count in 0..self.config.attempts {
            if retry_count > 0 {
                let factor = 2u32.saturating_pow(retry_count - 1);
                tokio::time::sleep(self.config.backoff.saturating_mul(factor)).await;
            }
            let (status, error) = self.attempt(&event, &target, retry_count).await;
            let delivered = status.is_some_and(|s| (200..300).contains(&s));
            self.record(Attempt {
                id: event.id.clone(),
                merchant_id: event.merchant_id.clone(),
                topic: event.topic.clone(),
                subscription_id: target.subscription_id.clone(),
                callback_url: target.callback_url.clone(),
                attempt: retry_count + 1,
                retry_count,
                status,
                error,
                delivered,
                at: now(),
            });
            if delivered {
                break;
            }
        }
        self.pending.fetch_sub(1, Ordering::SeqCst);
    }

    /// One POST: the receiver's status, or why there was none.
    async fn attempt(
        &self,
        event: &Outgoing,
        target: &Target,
        retry_count: u32,
    ) -> (Option<u16>, Option<String>) {
        let Ok(_slot) = self.slots.acquire().await else {
            return (None, Some("the sandbox is shutting down".to_owned()));
        };
        let meta = Event {
            topic: &event.topic,
            id: &event.id,
            shop_domain: &event.shop_domain,
            at: &event.at,
            test: false,
        };
        let body = delivery::envelope(event.payload.clone(), &meta, retry_count);
        // Where events go is the one reading of the URL, as plans show it.
        let Some(url) = CallbackUrl::read(&target.callback_url) else {
            return (None, Some("invalid callback URL".to_owned()));
        };
        match self.http.post(url.url().clone()).json(&body).send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(err) => (None, Some(failure(&err))),
        }
    }

    fn record(&self, attempt: Attempt) {
        let mut log = lock(&self.log);
        if log.attempts.len() >= LOG_LIMIT {
            log.attempts.pop_front();
            log.dropped += 1;
        }
        log.attempts.push_back(attempt);
    }

    /// `{"deliveries": [...], "pending": n, "dropped": n}`: every attempt
    /// logged, oldest first; targets still to be tried; attempts dropped
    /// from the log.
    pub(crate) fn snapshot(&self) -> Value {
        let log = lock(&self.log);
        json!({
            "deliveries": log.attempts,
            "pending": self.pending.load(Ordering::SeqCst),
            "dropped": log.dropped,
        })
    }

    /// Stops every delivery still under way (the sandbox is stopping).
    pub(crate) fn stop(&self) {
        lock(&self.tasks).abort_all();
    }
}

/// `metadata.shopDomain` of a merchant id (`m_` + hex): stable per key.
pub(crate) fn shop_domain(merchant_id: &str) -> String {
    let digest = merchant_id.strip_prefix("m_").unwrap_or(merchant_id);
    format!("sandbox-{digest}.myshopify.com")
}

/// The wall clock as RFC 3339: receivers may check an event's age.
pub(crate) fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    delivery::rfc3339(secs)
}

/// A failed attempt in a few words; never a URL (it may hold a secret).
fn failure(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else if err.is_redirect() {
        "redirect not followed".to_owned()
    } else if err.is_builder() {
        "invalid callback URL".to_owned()
    } else {
        "no answer (connection closed)".to_owned()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
