//! Deliveries (docs/sandbox.md "Test your receiver in CI"): tasks the sandbox owns, each POST through
//! `check`'s [`Prober::post`], retried with doubling backoff, every attempt logged.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::lock;
use super::store::Stored;
use super::DeliveryConfig;
use crate::check::probe::Prober;
use crate::delivery::{self, Event};

/// Attempts kept in the log; older ones are dropped (and counted).
const LOG_LIMIT: usize = 10_000;
/// Delivery attempts in flight at once, over all events.
const IN_FLIGHT: usize = 64;

pub(crate) struct Deliveries {
    config: DeliveryConfig,
    prober: Prober,
    next_event: AtomicU64,
    /// The attempts, and how many were dropped.
    log: Mutex<(VecDeque<Value>, u64)>,
    slots: Semaphore,
    tasks: Mutex<JoinSet<()>>,
}

impl Deliveries {
    pub(crate) fn new(config: DeliveryConfig) -> anyhow::Result<Deliveries> {
        Ok(Deliveries {
            prober: Prober::new(Vec::new(), config.timeout)?,
            config,
            next_event: AtomicU64::new(1),
            log: Mutex::default(),
            slots: Semaphore::new(IN_FLIGHT),
            tasks: Mutex::default(),
        })
    }

    /// Starts delivering `payload` (or the topic's sample) to each of `to`, a task each; the event's id.
    pub(crate) fn trigger(
        self: &Arc<Self>,
        merchant_id: String,
        topic: String,
        payload: Option<Value>,
        to: Vec<Stored>,
    ) -> String {
        let at = delivery::now();
        let payload = payload.unwrap_or_else(|| delivery::sample_payload(&topic, &merchant_id, &at));
        let id = format!("evt_{:06}", self.next_event.fetch_add(1, Ordering::Relaxed));
        let digest = merchant_id.strip_prefix("m_").unwrap_or(&merchant_id);
        let event = Event {
            topic: &topic,
            id: &id,
            shop_domain: &format!("sandbox-{digest}.myshopify.com"),
            at: &at,
        };
        let body = Arc::new(delivery::envelope(payload, &event, 0));
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        for to in to {
            tasks.spawn(Arc::clone(self).deliver(merchant_id.clone(), Arc::clone(&body), to));
        }
        id
    }

    /// Tries one subscription until a 2xx answer or the last attempt; `event` is at retry count 0.
    async fn deliver(self: Arc<Self>, merchant_id: String, event: Arc<Value>, to: Stored) {
        for retry_count in 0..self.config.attempts.max(1) {
            if retry_count > 0 {
                let factor = 2u32.saturating_pow(retry_count - 1);
                tokio::time::sleep(self.config.backoff.saturating_mul(factor)).await;
            }
            let mut envelope = Value::clone(&event);
            envelope["metadata"]["retryCount"] = retry_count.into();
            let body = envelope.to_string();
            // Never closed: the permit is always granted, in turn.
            let slot = self.slots.acquire().await;
            let post = self.prober.post(&to.callback_url, body.as_bytes());
            let answer = match tokio::time::timeout(self.config.timeout, post).await {
                Ok(answer) => answer.map_err(|failure| failure.to_string()),
                Err(_) => Err("timed out".to_owned()),
            };
            drop(slot);
            let delivered = answer.as_ref().is_ok_and(|status| (200..300).contains(status));
            // `error` says why there was no answer, in `check`'s words: never the URL.
            let meta = &event["metadata"];
            let attempt = json!({
                "id": meta["id"], "merchantId": merchant_id, "topic": meta["topic"],
                "subscriptionId": to.id, "callbackUrl": to.callback_url,
                "attempt": retry_count + 1, "retryCount": retry_count,
                "status": answer.as_ref().ok(), "error": answer.as_ref().err(),
                "delivered": delivered, "at": delivery::now(),
            });
            let (log, dropped) = &mut *lock(&self.log);
            *dropped += log.drain(..(log.len() + 1).saturating_sub(LOG_LIMIT)).count() as u64;
            log.push_back(attempt);
            if delivered {
                break;
            }
        }
    }

    /// `{"deliveries": [...], "pending": n, "dropped": n}`; pending: subscriptions with attempts to come.
    pub(crate) fn snapshot(&self) -> Value {
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        let log = lock(&self.log);
        json!({ "deliveries": log.0, "pending": tasks.len(), "dropped": log.1 })
    }

    pub(crate) fn stop(&self) {
        lock(&self.tasks).abort_all();
    }
}
