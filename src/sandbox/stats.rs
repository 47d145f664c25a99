//! Request counters by method (tests assert how many calls a command
//! made), counters of the faults injected, and the fault log: which
//! request got which fault. A leaf.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use hyper::Method;
use serde::Serialize;

/// How many requests reached the resource path, by method, and how many
/// faults were injected: the shape served at `GET /_sandbox/stats` under
/// `"requests"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
    pub injected: InjectedStats,
}

/// How many faults were injected, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
    pub repeated_ids: u64,
    /// Lists answered with a first page and a pagination hint (a lying list).
    pub cut_pages: u64,
}

/// One kind of injected fault.
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

/// The live counts behind [`RequestStats`], and the fault log.
#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<(RequestStats, VecDeque<String>)>);

impl Counters {
    fn lock(&self) -> MutexGuard<'_, (RequestStats, VecDeque<String>)> {
        super::lock(&self.0)
    }

    /// Counts one request.
    pub(crate) fn count(&self, method: &Method) {
        let stats = &mut self.lock().0;
        match *method {
            Method::GET => stats.get += 1,
            Method::POST => stats.post += 1,
            Method::PUT => stats.put += 1,
            Method::DELETE => stats.delete += 1,
            _ => {}
        }
        stats.total += 1;
    }

    /// Counts one injected fault, and logs it against `request` (the
    /// fate's `METHOD digest#occurrence`; a 429 has none: it depends on
    /// time, not on the request).
    pub(crate) fn injected(&self, kind: Injected, request: &str) {
        let (stats, log) = &mut *self.lock();
        let injected = &mut stats.injected;
        let (counter, name) = match kind {
            Injected::Error => (&mut injected.errors, "error"),
            Injected::PartialFailure => (&mut injected.partial_failures, "partial failure"),
            Injected::DropBefore => (&mut injected.drops_before, "drop before"),
            Injected::DropAfter => (&mut injected.drops_after, "drop after"),
            Injected::RateLimited => (&mut injected.rate_limited, "rate limited"),
            Injected::RepeatedId => (&mut injected.repeated_ids, "repeated id"),
            Injected::CutPage => (&mut injected.cut_pages, "cut page"),
        };
        *counter += 1;
        if !request.is_empty() {
            if log.len() == LOG_LIMIT {
                log.pop_front();
            }
            log.push_back(format!("{request} {name}"));
        }
    }

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> RequestStats {
        self.lock().0
    }

    /// The fault log (the last 10,000), sorted: two runs of one seed
    /// compare equal however their requests interleaved.
    pub(crate) fn fault_log(&self) -> Vec<String> {
        let mut log = Vec::from(self.lock().1.clone());
        log.sort();
        log
    }

    /// Sets every count back to zero and empties the fault log.
    pub(crate) fn reset(&self) {
        *self.lock() = Default::default();
    }
}
