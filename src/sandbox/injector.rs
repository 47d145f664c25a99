//! Fault injection: the one place where a request's fate is decided.
//!
//! [`Injector`] is the running form of [`Faults`], shared by every request
//! of a server: a token bucket, and a count of how often each request has
//! been seen.
//!
//! When a request reaches the resource, [`Injector::admit`] takes a token
//! from the bucket on arrival (no token: the request is rate-limited and
//! nothing else happens to it). Once its body is read, [`Injector::draw`]
//! decides everything else from the request itself: its merchant key,
//! method and body, and how many times that same request came before. A
//! generator seeded with (`seed`, request, occurrence) draws the fates in
//! a fixed order (error, drop, drop side, partial failure, then the lie),
//! whatever faults are enabled. So a seed gives the n-th sending of a
//! given request the same fate however requests interleave: a chaos run
//! replays (README "Fault injection"). Only identical requests in flight
//! at once (two GETs of one merchant) share one count, in arrival order.
//!
//! The resource handler then asks the drawn [`RequestFate`] at two hook
//! points: [`RequestFate::before_write`] once the request is authenticated
//! and valid (a fault here means nothing happened), and
//! [`RequestFate::after_write`] once the store has answered (a fault here
//! means the change stands, whatever the client is told), and
//! [`RequestFate::lie`] for a list answered with no other fault.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::faults::Faults;
use super::lies::Lie;
use super::wire::Op;

/// The running form of [`Faults`]: the bucket and the requests seen.
#[derive(Debug)]
pub(crate) struct Injector {
    faults: Faults,
    /// Request digest → how many times it was drawn for.
    seen: Mutex<HashMap<[u8; 32], u64>>,
    bucket: Option<Mutex<TokenBucket>>,
}

/// A request refused by the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimited {
    /// Whole seconds until a token is available, at least 1.
    pub(crate) retry_after: u64,
}

impl Injector {
    /// Validates `faults`; a full bucket, no request seen.
    pub(crate) fn new(faults: Faults) -> anyhow::Result<Injector> {
        faults.validate()?;
        let bucket = faults
            .rate_limit
            .map(|rate| Mutex::new(TokenBucket::new(rate, Instant::now())));
        Ok(Injector {
            seen: Mutex::default(),
            bucket,
            faults,
        })
    }

    /// Admits a request as it arrives, unless the rate limit refuses it.
    pub(crate) fn admit(&self) -> Result<(), RateLimited> {
        match &self.bucket {
            Some(bucket) => lock(bucket).take(Instant::now()),
            None => Ok(()),
        }
    }

    /// Decides an admitted request's fate from the request itself: the
    /// merchant `key` header, `method` and `body`, and how many times the
    /// same request was drawn for before.
    pub(crate) fn draw(&self, key: &[u8], method: &str, body: &[u8]) -> RequestFate {
        let faults = &self.faults;
        if !faults.is_active() {
            return RequestFate::default();
        }
        // Header values and methods hold no NUL: the parts cannot run together.
        let request: [u8; 32] = Sha256::new()
            .chain_update(key)
            .chain_update([0])
            .chain_update(method)
            .chain_update([0])
            .chain_update(body)
            .finalize()
            .into();
        let occurrence = {
            let mut seen = lock(&self.seen);
            let count = seen.entry(request).or_default();
            *count += 1;
            *count
        };
        let mut rng = StdRng::from_seed(
            Sha256::new()
                .chain_update(faults.seed.to_le_bytes())
                .chain_update(request)
                .chain_update(occurrence.to_le_bytes())
                .finalize()
                .into(),
        );
        // Always the same draws, in this order, so no fate depends on
        // which faults are enabled.
        let (error, drop, drop_after, partial) = (
            rng.random::<f64>(),
            rng.random::<f64>(),
            rng.random::<bool>(),
            rng.random::<f64>(),
        );
        let lie = Lie::draw(&mut rng, faults.lying_list_rate);
        let hex: String = request[..4].iter().map(|b| format!("{b:02x}")).collect();
        RequestFate {
            latency: faults.latency,
            error: error < faults.error_rate,
            drop: (drop < faults.drop_rate).then_some(if drop_after {
                DropPoint::AfterWrite
            } else {
                DropPoint::BeforeWrite
            }),
            partial_failure: partial < faults.partial_failure_rate,
            lie,
            request: format!("{method} {hex}#{occurrence}"),
        }
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

/// Everything decided for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RequestFate {
    /// How long to wait before handling the request.
    pub(crate) latency: Duration,
    error: bool,
    drop: Option<DropPoint>,
    partial_failure: bool,
    lie: Option<Lie>,
    /// The request in the fault log: `METHOD digest#occurrence`.
    pub(crate) request: String,
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

    /// `n` requests: eight different bodies, each sent again and again.
    fn draws(faults: Faults, n: usize) -> Vec<RequestFate> {
        let injector = Injector::new(faults).unwrap();
        (0..n)
            .map(|i| injector.draw(b"key", "POST", format!("{}", i % 8).as_bytes()))
            .collect()
    }

    #[test]
    fn a_request_has_its_fate_however_requests_interleave() {
        let requests: Vec<(&[u8], &str, String)> = (0..48)
            .map(|i| {
                let key: &[u8] = if i % 3 == 0 { b"one" } else { b"two" };
                let method = ["GET", "POST", "PUT", "DELETE"][i % 4];
                (key, method, format!("{{\"name\":\"n{}\"}}", i % 5))
            })
            .collect();
        let fates = |order: &mut dyn Iterator<Item = &(&[u8], &str, String)>| {
            let injector = Injector::new(faults(0.3, 0.3, 0.3)).unwrap();
            let mut fates: Vec<RequestFate> = order
                .map(|(key, method, body)| injector.draw(key, method, body.as_bytes()))
                .collect();
            fates.sort_by(|a, b| a.request.cmp(&b.request));
            fates
        };
        let forward = fates(&mut requests.iter());
        assert_eq!(forward, fates(&mut requests.iter().rev()));
        let (even, odd): (Vec<_>, Vec<_>) = requests.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let mut shuffled = odd.into_iter().chain(even).map(|(_, r)| r);
        assert_eq!(forward, fates(&mut shuffled));
        assert!(forward.iter().any(|f| f.error) && forward.iter().any(|f| !f.error));
        // The n-th sending of one request is told apart from the first.
        assert!(forward.iter().any(|f| f.request.ends_with("#2")), "{forward:?}");
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
