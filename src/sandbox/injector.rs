//! Fault injection: the one place where a request's fate is decided.
//!
//! [`Injector`] is the running form of [`Faults`], shared by every request of a server:
//! one seeded random generator and one token bucket, each behind a mutex.
//!
//! When a request reaches the resource, [`Injector::arrive`] first takes a
//! token from the bucket (no token: the request is rate-limited and nothing
//! else happens to it), then draws all of the request's dice at once, in a
//! fixed order (error, drop, drop side, partial failure), whatever faults
//! are enabled. So the n-th admitted request always gets the n-th draw: a
//! given seed and a given sequence of requests give the same fates. A
//! lying list ([`Lie`]) is drawn for every admitted request too, from a
//! second generator seeded from the same seed, so that lies do not shift
//! the other fates of a seed.
//!
//! The resource handler then asks the drawn [`RequestFate`] at two hook
//! points: [`RequestFate::before_write`] once the request is authenticated
//! and valid (a fault here means nothing happened), and
//! [`RequestFate::after_write`] once the store has answered (a fault here
//! means the change stands, whatever the client is told), and
//! [`RequestFate::lie`] for a list answered with no other fault.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use super::faults::Faults;
use super::lies::Lie;
use super::wire::Op;

/// Mixed into the seed of the lies' generator, so its stream is not the
/// fates' stream (the same draws would make every lie fall on an error).
const LIES_SEED: u64 = 0x6c69_6573_6c69_6573;

/// The running form of [`Faults`]: the random generator and the bucket.
#[derive(Debug)]
pub(crate) struct Injector {
    faults: Faults,
    rng: Mutex<StdRng>,
    lies: Mutex<StdRng>,
    bucket: Option<Mutex<TokenBucket>>,
}

/// A request refused by the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimited {
    /// Whole seconds until a token is available, at least 1.
    pub(crate) retry_after: u64,
}

impl Injector {
    /// Validates `faults` and seeds the generator.
    pub(crate) fn new(faults: Faults) -> anyhow::Result<Injector> {
        faults.validate()?;
        let bucket = faults
            .rate_limit
            .map(|rate| Mutex::new(TokenBucket::new(rate, Instant::now())));
        Ok(Injector {
            rng: Mutex::new(StdRng::seed_from_u64(faults.seed)),
            lies: Mutex::new(StdRng::seed_from_u64(faults.seed ^ LIES_SEED)),
            bucket,
            faults,
        })
    }

    /// Decides a request's fate as it arrives: either it is rate-limited,
    /// or every fault is drawn for it now.
    pub(crate) fn arrive(&self) -> Result<RequestFate, RateLimited> {
        if let Some(bucket) = &self.bucket {
            lock(bucket).take(Instant::now())?;
        }
        let faults = &self.faults;
        // Always four draws, in this order, so the stream of fates does not
        // depend on which faults are enabled.
        let (error, drop, drop_after, partial) = {
            let mut rng = lock(&self.rng);
            let error = rng.random::<f64>();
            let drop = rng.random::<f64>();
            let drop_after = rng.random::<bool>();
            let partial = rng.random::<f64>();
            (error, drop, drop_after, partial)
        };
        let lie = Lie::draw(&mut *lock(&self.lies), faults.lying_list_rate);
        Ok(RequestFate {
            latency: faults.latency,
            error: error < faults.error_rate,
            drop: (drop < faults.drop_rate).then_some(if drop_after {
                DropPoint::AfterWrite
            } else {
                DropPoint::BeforeWrite
            }),
            partial_failure: partial < faults.partial_failure_rate,
            lie,
        })
    }

    /// Until when a subscription created `now` is hidden from GET, if a
    /// visibility delay is set.
    pub(crate) fn hidden_until(&self, now: Instant) -> Option<Instant> {
        let delay = self.faults.visibility_delay;
        (!delay.is_zero()).then(|| now + delay)
    }
}

/// Locks `mutex`; a panic elsewhere never makes it unusable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a drop happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropPoint {
    BeforeWrite,
    AfterWrite,
}

/// Everything decided for one request when it arrived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RequestFate {
    /// How long to wait before handling the request.
    pub(crate) latency: Duration,
    error: bool,
    drop: Option<DropPoint>,
    partial_failure: bool,
    lie: Option<Lie>,
}

/// What happens to a request at a hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Carry on as a healthy server would.
    Proceed,
    /// Answer 500 (`internal error (injected)`).
    Fail,
    /// Close the connection without any response.
    Drop,
}

impl RequestFate {
    /// Decided before the store is touched: a fault here means no write
    /// happened (an injected 500, or a drop before the write).
    pub(crate) fn before_write(&self) -> Fate {
        if self.error {
            Fate::Fail
        } else if self.drop == Some(DropPoint::BeforeWrite) {
            Fate::Drop
        } else {
            Fate::Proceed
        }
    }

    /// Decided after the store answered with `status`: a fault here means
    /// the operation happened but the client is told otherwise (a drop
    /// after the write, or a partial failure of a POST, PUT or DELETE).
    /// When the store refused (any status but 2xx) nothing happened, and
    /// the honest answer goes out.
    pub(crate) fn after_write(&self, op: Op, status: StatusCode) -> Fate {
        if !status.is_success() {
            Fate::Proceed
        } else if self.drop == Some(DropPoint::AfterWrite) {
            Fate::Drop
        } else if self.partial_failure && op != Op::List {
            Fate::Fail
        } else {
            Fate::Proceed
        }
    }

    /// The lie to tell, asked once [`RequestFate::after_write`] said to
    /// proceed: only a list the store answered (2xx) is lied about.
    pub(crate) fn lie(&self, op: Op, status: StatusCode) -> Option<Lie> {
        self.lie.filter(|_| op == Op::List && status.is_success())
    }
}

/// A token bucket: holds up to `capacity` tokens, refilled at `rate` per
/// second; every admitted request takes one.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    fn new(rate: f64, now: Instant) -> TokenBucket {
        let capacity = rate.max(1.0);
        TokenBucket {
            rate,
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is available.
    fn take(&mut self, now: Instant) -> Result<(), RateLimited> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - self.tokens) / self.rate).ceil();
            // `as` saturates: an absurdly low rate gives u64::MAX.
            Err(RateLimited {
                retry_after: (wait as u64).max(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::sandbox::faults::tests::faults;

    fn draws(faults: Faults, n: usize) -> Vec<RequestFate> {
        let injector = Injector::new(faults).unwrap();
        (0..n).map(|_| injector.arrive().unwrap()).collect()
    }

    #[test]
    fn default_injects_nothing() {
        let fates = draws(Faults::default(), 100);
        for fate in fates {
            assert_eq!(fate.before_write(), Fate::Proceed);
            for op in [Op::List, Op::Create, Op::Update, Op::Delete] {
                assert_eq!(fate.after_write(op, StatusCode::OK), Fate::Proceed);
            }
            assert_eq!(fate.latency, Duration::ZERO);
        }
        assert!(!Faults::default().is_active());
        assert!(!Faults {
            seed: 9,
            ..Faults::default()
        }
        .is_active());
        assert_eq!(Faults::default().to_string(), "none");
    }

    #[test]
    fn same_seed_same_fates_other_seed_other_fates() {
        let a = draws(faults(0.5, 0.5, 0.5), 64);
        assert_eq!(a, draws(faults(0.5, 0.5, 0.5), 64));
        let other = draws(
            Faults {
                seed: 43,
                ..faults(0.5, 0.5, 0.5)
            },
            64,
        );
        assert_ne!(a, other);
        // Enabling another fault does not shift the draws of the first.
        let errors = |fates: &[RequestFate]| fates.iter().map(|f| f.error).collect::<Vec<_>>();
        assert_eq!(errors(&a), errors(&draws(faults(0.5, 0.0, 0.0), 64)));
        let lying = Faults {
            lying_list_rate: 1.0,
            ..faults(0.5, 0.5, 0.5)
        };
        let lied = draws(lying, 64);
        assert_eq!(errors(&a), errors(&lied), "lies shift no other fate");
        assert!(lied.iter().all(|f| f.lie(Op::List, StatusCode::OK).is_some()));
        assert!(lied
            .iter()
            .all(|f| f.lie(Op::Create, StatusCode::CREATED).is_none()));
        assert!(lied
            .iter()
            .all(|f| f.lie(Op::List, StatusCode::BAD_REQUEST).is_none()));
    }

    #[test]
    fn certain_faults_always_hit_and_error_wins() {
        for fate in draws(faults(1.0, 1.0, 1.0), 20) {
            assert_eq!(fate.before_write(), Fate::Fail);
        }
        let drops = draws(faults(0.0, 1.0, 0.0), 40);
        let before = drops.iter().filter(|f| f.before_write() == Fate::Drop).count();
        let after = drops
            .iter()
            .filter(|f| f.after_write(Op::Create, StatusCode::CREATED) == Fate::Drop)
            .count();
        assert_eq!(before + after, 40);
        assert!(before > 0 && after > 0, "{before} before, {after} after");
        for fate in draws(faults(0.0, 0.0, 1.0), 20) {
            assert_eq!(fate.before_write(), Fate::Proceed);
            assert_eq!(fate.after_write(Op::Delete, StatusCode::OK), Fate::Fail);
            assert_eq!(fate.after_write(Op::List, StatusCode::OK), Fate::Proceed);
            // The store refused: nothing happened, the 400 goes out.
            assert_eq!(
                fate.after_write(Op::Delete, StatusCode::BAD_REQUEST),
                Fate::Proceed
            );
        }
    }

    #[test]
    fn token_bucket_holds_max_1_rate_and_refills() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3.0, t0);
        for _ in 0..3 {
            assert_eq!(bucket.take(t0), Ok(()));
        }
        assert_eq!(bucket.take(t0), Err(RateLimited { retry_after: 1 }));
        // A third of a second later, one token is back.
        let t1 = t0 + Duration::from_millis(334);
        assert_eq!(bucket.take(t1), Ok(()));
        assert!(bucket.take(t1).is_err());
        // Never more than the capacity, however long the wait.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(t2), Ok(()));
        }
        assert!(bucket.take(t2).is_err());

        // Below 1 request per second the bucket still holds one token, and
        // Retry-After rounds up to whole seconds.
        let mut slow = TokenBucket::new(0.25, t0);
        assert_eq!(slow.take(t0), Ok(()));
        assert_eq!(slow.take(t0), Err(RateLimited { retry_after: 4 }));
        assert_eq!(
            slow.take(t0 + Duration::from_millis(1500)),
            Err(RateLimited { retry_after: 3 })
        );
        assert_eq!(slow.take(t0 + Duration::from_secs(4)), Ok(()));
    }
}
