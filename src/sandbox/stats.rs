//! Request counters by method (tests assert how many calls a command
//! made), counts of the faults injected, and which request got which.

use std::collections::VecDeque;
use std::sync::Mutex;

use hyper::Method;
use serde::Serialize;

use super::faults::Injected;

/// Served at `GET /_sandbox/stats` under `"requests"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct RequestStats {
    pub get: u64,
    pub post: u64,
    pub put: u64,
    pub delete: u64,
    /// Every request, other methods included.
    #[serde(rename = "total")]
    pub total: u64,
    #[serde(rename = "injected")]
    pub injected: InjectedStats,
}

/// Faults injected, by kind (docs/sandbox.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InjectedStats {
    pub errors: u64,
    pub partial_failures: u64,
    pub drops_before: u64,
    pub drops_after: u64,
    pub rate_limited: u64,
    pub repeated_ids: u64,
    pub cut_pages: u64,
}

const LOG_LIMIT: usize = 10_000;

/// The counts, and the fault log (the last 10,000 faults but 429s).
#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<(RequestStats, VecDeque<String>)>);

impl Counters {
    pub(crate) fn count(&self, method: &Method) {
        let stats = &mut super::lock(&self.0).0;
        match *method {
            Method::GET => stats.get += 1,
            Method::POST => stats.post += 1,
            Method::PUT => stats.put += 1,
            Method::DELETE => stats.delete += 1,
            _ => {}
        }
        stats.total += 1;
    }

    /// Logs it against `request` (`METHOD digest#occurrence`) unless that
    /// is empty: a 429 depends on time, not on the request.
    pub(crate) fn injected(&self, kind: Injected, request: &str) {
        let (stats, log) = &mut *super::lock(&self.0);
        let injected = &mut stats.injected;
        let (counter, name) = match kind {
            Injected::Error => (&mut injected.errors, "error"),
            Injected::PartialFailure => (&mut injected.partial_failures, "partial failure"),
            Injected::DropBefore => (&mut injected.drops_before, "drop before"),
            Injected::DropAfter => (&mut injected.drops_after, "drop after"),
            Injected::RateLimited => (&mut injected.rate_limited, "rate limited"),
            Injected::RepeatedId { .. } => (&mut injected.repeated_ids, "repeated id"),
            Injected::CutPage { .. } => (&mut injected.cut_pages, "cut page"),
        };
        *counter += 1;
        if !request.is_empty() {
            if log.len() == LOG_LIMIT {
                log.pop_front();
            }
            log.push_back(format!("{request} {name}"));
        }
    }

    pub(crate) fn snapshot(&self) -> RequestStats {
        super::lock(&self.0).0
    }

    /// Sorted: one seed gives one log however requests interleave.
    pub(crate) fn fault_log(&self) -> Vec<String> {
        let mut log = Vec::from(super::lock(&self.0).1.clone());
        log.sort();
        log
    }

    pub(crate) fn reset(&self) {
        *super::lock(&self.0) = Default::default();
    }
}
