//! Request counters, by method, for tests that assert how many calls a
//! command made (e.g. `plan` makes exactly one GET).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use serde::{Deserialize, Serialize};

/// How many requests reached the resource path, by method. Serialised as
/// `{"GET":n,"POST":n,"PUT":n,"DELETE":n,"total":n}`, the shape served at
/// `GET /_sandbox/stats` under `"requests"`.
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
}

/// The live counters behind [`RequestStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
    total: AtomicU64,
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

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> RequestStats {
        RequestStats {
            get: self.get.load(Ordering::Relaxed),
            post: self.post.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }

    /// Sets every count back to zero.
    pub(crate) fn reset(&self) {
        for counter in [&self.get, &self.post, &self.put, &self.delete, &self.total] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}
