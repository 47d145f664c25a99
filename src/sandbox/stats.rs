//! Request counters, by method, for tests that assert how many calls a
//! command made (e.g. `plan` makes exactly one GET), and counters of the
//! faults injected.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
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

/// The live counters behind [`RequestStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
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

    /// Counts one injected fault.
    pub(crate) fn injected(&self, kind: Injected) {
        let counter = match kind {
            Injected::Error => &self.errors,
            Injected::PartialFailure => &self.partial_failures,
            Injected::DropBefore => &self.drops_before,
            Injected::DropAfter => &self.drops_after,
            Injected::RateLimited => &self.rate_limited,
            Injected::RepeatedId => &self.repeated_ids,
            Injected::CutPage => &self.cut_pages,
        };
        counter.fetch_add(1, Ordering::Relaxed);
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
