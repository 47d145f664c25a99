//! Fault injection: the one place where a request's fate is decided.
//!
//! Nothing is injected yet. The resource handler asks [`Faults::before_write`]
//! once a request is authenticated and valid, and [`Faults::after_write`]
//! once the store has answered; every future fault (latency, error rate,
//! partial failure, dropped connection, rate limit, visibility delay, all
//! seeded) becomes a new [`Fate`] variant decided here, so the handler stays
//! a straight line.

use super::http::Op;

/// Which faults the sandbox injects, and how often. The default injects
/// none: the sandbox then behaves like a healthy API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {}

/// What happens to a request at a hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Carry on as a healthy server would.
    Proceed,
}

impl Faults {
    /// Decided before the store is touched: a fault here means no write
    /// happened (e.g. a 500 or 429 before the write, latency).
    pub(crate) fn before_write(&self, _op: Op) -> Fate {
        Fate::Proceed
    }

    /// Decided after the store answered with `status`: a fault here means
    /// the write happened but the client is told otherwise (e.g. a 500 after
    /// the write, a dropped response).
    pub(crate) fn after_write(&self, _op: Op, _status: axum::http::StatusCode) -> Fate {
        Fate::Proceed
    }
}
