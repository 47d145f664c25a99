//! Request counters, by method, for tests that assert how many calls a
//! command made (e.g. `plan` makes exactly one GET), counters of the
//! faults injected, and the fault log: which request got which fault.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use hyper::Method;
use serde::{Deserialize, Serialize};

/// How many requests reached the resource path, by method, and how many
/// faults were injected. Serialised as
/// `{"GET":n,"POST":n,"PUT":n,"DELETE":n,"total":n,"injected":{…}}`, the
/// shape served at `GET /_sandbox/stats` under `"requests"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    /// GET requests (list).
    #[serde(rename = "GET")]
    pub get: u64,
    /// POST requests (create).
    #[serde(rename = "POST")]
    pub post: u64,
    /// PUT requests (update).
    #[serde(rename = "PUT")]
    pub put: u64,
    /// DELETE requests (delete).
    #[serde(rename = "DELETE")]
    pub delete: u64,
    /// Every request, other methods included.
    pub total: u64,
    /// Faults injected into those requests.
    #[serde(default)]
    pub injected: InjectedStats,
}

/// How many faults were injected, by kind. Serialised as
/// `{"errors":n,"partial_failures":n,"drops_before":n,"drops_after":n,"rate_limited":n,
/// "repeated_ids":n,"cut_pages":n}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedStats {
    /// 500s answered before any write (nothing happened).
    pub errors: u64,
    /// 500s answered after a successful write (the change happened).
    pub partial_failures: u64,
    /// Connections closed without a response before the write.
    pub drops_before: u64,
    /// Connections closed without a response after the write.
    pub drops_after: u64,
    /// 429s from the rate limit (nothing happened).
    pub rate_limited: u64,
    /// Lists answered with one id listed twice (a lying list).
    #[serde(default)]
    pub repeated_ids: u64,
    /// Lists answered with a first page only and a pagination hint (a
    /// lying list).
    #[serde(default)]
    pub cut_pages: u64,
}

/// One kind of injected fault, for [`Counters::injected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Error,
    PartialFailure,
    DropBefore,
    DropAfter,
    RateLimited,
    RepeatedId,
    CutPage,
}

/// Faults kept in the log; older ones are dropped.
const LOG_LIMIT: usize = 10_000;

/// The live counters behind [`RequestStats`], and the fault log.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    log: Mutex<VecDeque<String>>,
    get: AtomicU64,
    post: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
    total: AtomicU64,
    errors: AtomicU64,
    partial_failures: AtomicU64,
    drops_before: AtomicU64,
    drops_after: AtomicU64,
    rate_limited: AtomicU64,
    repeated_ids: AtomicU64,
    cut_pages: AtomicU64,
}

impl Counters {
    /// Counts one request.
    pub(crate) fn count(&self, method: &Method) {
        let counter = match *method {
            Method::GET => Some(&self.get),
            Method::POST => Some(&self.post),
            Method::PUT => Some(&self.put),
            Method::DELETE => Some(&self.delete),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one injected fault, and logs it against `request` (the
    /// fate's `METHOD digest#occurrence`; a 429 has none: it depends on
    /// time, not on the request).
    pub(crate) fn injected(&self, kind: Injected, request: &str) {
        let (counter, name) = match kind {
            Injected::Error => (&self.errors, "error"),
            Injected::PartialFailure => (&self.partial_failures, "partial failure"),
            Injected::DropBefore => (&self.drops_before, "drop before"),
            Injected::DropAfter => (&self.drops_after, "drop after"),
            Injected::RateLimited => (&self.rate_limited, "rate limited"),
            Injected::RepeatedId => (&self.repeated_ids, "repeated id"),
            Injected::CutPage => (&self.cut_pages, "cut page"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if !request.is_empty() {
            let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            if log.len() == LOG_LIMIT {
                log.pop_front();
            }
            log.push_back(format!("{request} {name}"));
        }
    }

    /// The fault log (the last 10,000), sorted: two runs of one seed
    /// compare equal however their requests interleaved.
    pub(crate) fn fault_log(&self) -> Vec<String> {
        let mut log: Vec<String> = self
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        log.sort();
        log
    }

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> RequestStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RequestStats {
            get: load(&self.get),
            post: load(&self.post),
            put: load(&self.put),
            delete: load(&self.delete),
            total: load(&self.total),
            injected: InjectedStats {
                errors: load(&self.errors),
                partial_failures: load(&self.partial_failures),
                drops_before: load(&self.drops_before),
                drops_after: load(&self.drops_after),
                rate_limited: load(&self.rate_limited),
                repeated_ids: load(&self.repeated_ids),
                cut_pages: load(&self.cut_pages),
            },
        }
    }

    /// Sets every count back to zero.
    pub(crate) fn reset(&self) {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clear();
        for counter in [
            &self.get,
            &self.post,
            &self.put,
            &self.delete,
            &self.total,
            &self.errors,
            &self.partial_failures,
            &self.drops_before,
            &self.drops_after,
            &self.rate_limited,
            &self.repeated_ids,
            &self.cut_pages,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}
