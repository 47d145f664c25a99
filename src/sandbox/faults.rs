//! Each request's fate (docs/sandbox.md "Fault injection"): the rate limit on arrival, the rest drawn
//! from the seed and the n-th sending of the request itself; and the counts tests read.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use anyhow::Context;
use hyper::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::lock;
use super::Faults;

/// One kind of injected fault; a lying list carries how it lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Injected {
    Error,
    PartialFailure,
    DropBefore,
    DropAfter,
    RateLimited,
    /// The entry at this share (in `[0, 1)`) of the list listed twice, as overlapping pages give.
    RepeatedId(f64),
    /// The first `keep` (in `[0, 1)`) of the entries, at least one left out, and hint `hint`.
    CutPage {
        keep: f64,
        hint: usize,
    },
}

/// [`Faults`] running: the token bucket and the requests seen.
pub(crate) struct Injector {
    pub(crate) faults: Faults,
    /// Request digest → how many times it was drawn for.
    seen: Mutex<HashMap<[u8; 32], u64>>,
    /// Tokens (up to `max(1, rate)`), and when they were counted.
    bucket: Mutex<(f64, Instant)>,
}

impl Injector {
    pub(crate) fn new(faults: Faults) -> anyhow::Result<Injector> {
        faults.validate().context("invalid fault injection settings")?;
        let capacity = faults.rate_limit.map_or(0.0, |rate| rate.max(1.0));
        Ok(Injector {
            faults,
            seen: Mutex::default(),
            bucket: Mutex::new((capacity, Instant::now())),
        })
    }

    /// Takes a token; without one, the whole seconds (at least 1) until one.
    pub(crate) fn admit(&self) -> Result<(), u64> {
        let Some(rate) = self.faults.rate_limit else {
            return Ok(());
        };
        let (tokens, last) = &mut *lock(&self.bucket);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * rate).min(rate.max(1.0));
        *last = now.max(*last);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        // `as` saturates: an absurdly low rate gives u64::MAX.
        Err((((1.0 - *tokens) / rate).ceil() as u64).max(1))
    }

    /// A request's fate: at most one fault (`Error` and `DropBefore` once the request is valid, the
    /// others once the store said yes), and the request in the fault log (`METHOD digest#occurrence`).
    pub(crate) fn draw(&self, key: &[u8], method: &str, body: &[u8]) -> (Option<Injected>, String) {
        let faults = &self.faults;
        if !faults.is_active() {
            return (None, String::new());
        }
        // Header values and methods hold no NUL: the parts cannot run together.
        let request: [u8; 32] = Sha256::digest([key, b"\0", method.as_bytes(), b"\0", body].concat()).into();
        let occurrence = *lock(&self.seen)
            .entry(request)
            .and_modify(|n| *n += 1)
            .or_insert(1);
        let seed = Sha256::new()
            .chain_update(faults.seed.to_le_bytes())
            .chain_update(request)
            .chain_update(occurrence.to_le_bytes());
        let mut rng = StdRng::from_seed(seed.finalize().into());
        // Always the same draws, in this order: no fate depends on which faults are enabled.
        let error = rng.random::<f64>() < faults.error_rate;
        let drop = rng.random::<f64>() < faults.drop_rate;
        let drop_after = rng.random::<bool>();
        let partial = rng.random::<f64>() < faults.partial_failure_rate;
        let lie_drawn = rng.random::<f64>() < faults.lying_list_rate;
        let repeat = rng.random::<bool>();
        let share = rng.random::<f64>();
        let hint = rng.random_range(0..4);
        let fault = match (error, drop, method) {
            (true, _, _) => Some(Injected::Error),
            (_, true, _) if drop_after => Some(Injected::DropAfter),
            (_, true, _) => Some(Injected::DropBefore),
            (_, _, "GET") if repeat => lie_drawn.then_some(Injected::RepeatedId(share)),
            (_, _, "GET") => lie_drawn.then_some(Injected::CutPage { keep: share, hint }),
            _ => partial.then_some(Injected::PartialFailure),
        };
        let hex: String = request[..4].iter().map(|b| format!("{b:02x}")).collect();
        (fault, format!("{method} {hex}#{occurrence}"))
    }
}

impl Injected {
    /// Lies in a list's `data`; false, `data` untouched, for an empty list.
    pub(crate) fn tell(self, data: &mut Value) -> bool {
        let list = data.get_mut("subscriptions").and_then(Value::as_array_mut);
        let Some(list) = list.filter(|list| !list.is_empty()) else {
            return false;
        };
        let len = list.len();
        // `as` truncates: a share in [0, 1) gives an index in 0..len.
        let index = |share: f64| ((share * len as f64) as usize).min(len - 1);
        match self {
            Injected::RepeatedId(at) => list.insert(index(at) + 1, list[index(at)].clone()),
            Injected::CutPage { keep, hint } => {
                let next = list[index(keep)].get("id").cloned().unwrap_or(Value::Null);
                list.truncate(index(keep));
                let (key, value) = match hint {
                    0 => ("total", json!(len)),
                    1 => ("hasMore", json!(true)),
                    2 => ("nextPage", json!(2)),
                    _ => ("pagination", json!({ "nextCursor": next })),
                };
                data[key] = value;
            }
            _ => return false,
        }
        true
    }
}

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

/// The counts, and the fault log: the last 10,000 faults but 429s (`POST 3fa2c1d0#2 drop after`).
#[derive(Debug, Default)]
pub struct Counters(Mutex<(RequestStats, VecDeque<String>)>);

impl Counters {
    pub(crate) fn count(&self, method: &Method) {
        let stats = &mut lock(&self.0).0;
        match *method {
            Method::GET => stats.get += 1,
            Method::POST => stats.post += 1,
            Method::PUT => stats.put += 1,
            Method::DELETE => stats.delete += 1,
            _ => {}
        }
        stats.total += 1;
    }

    /// Logged against `request` (`METHOD digest#occurrence`) unless empty: a 429 depends on time.
    pub(crate) fn injected(&self, kind: Injected, request: &str) {
        let (stats, log) = &mut *lock(&self.0);
        let injected = &mut stats.injected;
        let (counter, name) = match kind {
            Injected::Error => (&mut injected.errors, "error"),
            Injected::PartialFailure => (&mut injected.partial_failures, "partial failure"),
            Injected::DropBefore => (&mut injected.drops_before, "drop before"),
            Injected::DropAfter => (&mut injected.drops_after, "drop after"),
            Injected::RateLimited => (&mut injected.rate_limited, "rate limited"),
            Injected::RepeatedId(_) => (&mut injected.repeated_ids, "repeated id"),
            Injected::CutPage { .. } => (&mut injected.cut_pages, "cut page"),
        };
        *counter += 1;
        if !request.is_empty() {
            log.drain(..(log.len() + 1).saturating_sub(LOG_LIMIT));
            log.push_back(format!("{request} {name}"));
        }
    }

    pub fn stats(&self) -> RequestStats {
        lock(&self.0).0
    }

    /// Sorted: one seed gives one log however requests interleave.
    pub fn fault_log(&self) -> Vec<String> {
        let mut log = Vec::from(lock(&self.0).1.clone());
        log.sort();
        log
    }

    pub fn reset(&self) {
        *lock(&self.0) = Default::default();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    type Fate = (Option<Injected>, String);
    use crate::api::envelope::{parse_list, BodyError};
    use crate::sandbox::tests::config::faults;

    /// `n` requests of `method`: eight different bodies, each sent again and again.
    fn draws_of(method: &str, faults: Faults, n: usize) -> Vec<Fate> {
        let injector = Injector::new(faults).unwrap();
        (0..n)
            .map(|i| injector.draw(b"key", method, format!("{}", i % 8).as_bytes()))
            .collect()
    }

    fn draws(faults: Faults, n: usize) -> Vec<Fate> {
        draws_of("POST", faults, n)
    }

    fn errors(fates: &[Fate]) -> Vec<bool> {
        fates.iter().map(|f| f.0 == Some(Injected::Error)).collect()
    }

    fn is_lie(kind: Option<Injected>) -> bool {
        matches!(kind, Some(Injected::RepeatedId(_) | Injected::CutPage { .. }))
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
            let mut fates: Vec<Fate> = order
                .map(|(key, method, body)| injector.draw(key, method, body.as_bytes()))
                .collect();
            fates.sort_by(|a, b| a.1.cmp(&b.1));
            fates
        };
        let forward = fates(&mut requests.iter());
        assert_eq!(forward, fates(&mut requests.iter().rev()));
        let (even, odd): (Vec<_>, Vec<_>) = requests.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let mut shuffled = odd.into_iter().chain(even).map(|(_, r)| r);
        assert_eq!(forward, fates(&mut shuffled));
        let errors = errors(&forward);
        assert!(errors.contains(&true) && errors.contains(&false));
        // The n-th sending of one request is told apart from the first.
        assert!(forward.iter().any(|f| f.1.ends_with("#2")), "{forward:?}");
    }

    #[test]
    fn default_injects_nothing() {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            for fate in draws_of(method, Faults::default(), 100) {
                assert_eq!(fate, Fate::default());
            }
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
        assert_eq!(errors(&a), errors(&draws(faults(0.5, 0.0, 0.0), 64)));
        let lying = Faults {
            lying_list_rate: 1.0,
            ..faults(0.5, 0.5, 0.5)
        };
        let lied = draws_of("GET", lying.clone(), 64);
        let honest = draws_of("GET", faults(0.5, 0.5, 0.5), 64);
        assert_eq!(errors(&honest), errors(&lied), "lies shift no other fate");
        for (lied, honest) in lied.iter().zip(&honest) {
            match honest.0 {
                None => assert!(is_lie(lied.0), "{lied:?}"),
                other => assert_eq!(lied.0, other),
            }
        }
        assert!(draws(lying, 64).iter().all(|f| !is_lie(f.0)));
    }

    #[test]
    fn certain_faults_always_hit_and_error_wins() {
        for fate in draws(faults(1.0, 1.0, 1.0), 20) {
            assert_eq!(fate.0, Some(Injected::Error));
        }
        let drops = draws_of("GET", faults(0.0, 1.0, 0.0), 40);
        let before = drops.iter().filter(|f| f.0 == Some(Injected::DropBefore)).count();
        let after = drops.iter().filter(|f| f.0 == Some(Injected::DropAfter)).count();
        assert_eq!(before + after, 40);
        assert!(before > 0 && after > 0, "{before} before, {after} after");
        for fate in draws(faults(0.0, 0.0, 1.0), 20) {
            assert_eq!(fate.0, Some(Injected::PartialFailure));
        }
        for fate in draws_of("GET", faults(0.0, 0.0, 1.0), 20) {
            assert_eq!(fate.0, None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_holds_max_1_rate_and_refills() {
        let limited = |rate| {
            let faults = Faults {
                rate_limit: Some(rate),
                ..Faults::default()
            };
            Injector::new(faults).unwrap()
        };
        let advance = |ms| tokio::time::advance(Duration::from_millis(ms));
        let fast = limited(3.0);
        for _ in 0..3 {
            assert_eq!(fast.admit(), Ok(()));
        }
        assert_eq!(fast.admit(), Err(1));
        // A third of a second later, one token is back.
        advance(334).await;
        assert_eq!(fast.admit(), Ok(()));
        assert!(fast.admit().is_err());
        // Never more than the capacity, however long the wait.
        advance(60_000).await;
        for _ in 0..3 {
            assert_eq!(fast.admit(), Ok(()));
        }
        assert!(fast.admit().is_err());

        // Below 1 request per second the bucket still holds one token, and
        // Retry-After rounds up to whole seconds.
        let slow = limited(0.25);
        assert_eq!(slow.admit(), Ok(()));
        assert_eq!(slow.admit(), Err(4));
        advance(1500).await;
        assert_eq!(slow.admit(), Err(3));
        advance(2500).await;
        assert_eq!(slow.admit(), Ok(()));
    }

    fn list(n: usize) -> Value {
        let subs: Vec<Value> = (1..=n)
            .map(|i| {
                json!({"id": format!("wh_{i:06}"), "topic": "customer.updated", "name": format!("n{i}"),
                       "callbackUrl": "https://a.example/"})
            })
            .collect();
        json!({ "subscriptions": subs })
    }

    fn body(data: &Value) -> Vec<u8> {
        json!({"message": "webhook subscriptions retrieved", "data": data})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn every_lie_is_one_the_client_refuses() {
        let lies = [Injected::RepeatedId(0.0), Injected::RepeatedId(0.999)]
            .into_iter()
            .chain((0..4).flat_map(|hint| [0.0, 0.5, 0.999].map(|keep| Injected::CutPage { keep, hint })));
        for lie in lies {
            for n in [1, 2, 7] {
                let mut data = list(n);
                assert!(lie.tell(&mut data), "{lie:?} on {n}");
                let err = parse_list(&body(&data)).unwrap_err();
                assert!(matches!(err, BodyError::Incomplete(_)), "{lie:?} on {n}: {err:?}");
            }
        }
    }

    #[test]
    fn a_repeat_copies_one_entry_and_a_cut_keeps_a_first_page() {
        let mut data = list(4);
        assert!(Injected::RepeatedId(0.5).tell(&mut data));
        let ids: Vec<&str> = data["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["wh_000001", "wh_000002", "wh_000003", "wh_000003", "wh_000004"]
        );

        let mut data = list(4);
        assert!(Injected::CutPage { keep: 0.5, hint: 3 }.tell(&mut data));
        assert_eq!(data["subscriptions"].as_array().unwrap().len(), 2);
        assert_eq!(data["pagination"], json!({"nextCursor": "wh_000003"}));
        let mut data = list(3);
        Injected::CutPage { keep: 0.9, hint: 0 }.tell(&mut data);
        assert_eq!(
            (data["subscriptions"].as_array().unwrap().len(), &data["total"]),
            (2, &json!(3))
        );
    }

    #[test]
    fn an_empty_list_is_answered_honestly() {
        for lie in [
            Injected::RepeatedId(0.3),
            Injected::CutPage { keep: 0.3, hint: 1 },
        ] {
            let mut data = list(0);
            assert!(!lie.tell(&mut data));
            assert_eq!(data, list(0));
        }
    }

    #[test]
    fn lies_follow_the_rate_and_the_seed() {
        let draws = |seed, rate| {
            let faults = Faults {
                seed,
                lying_list_rate: rate,
                ..Faults::default()
            };
            let injector = Injector::new(faults).unwrap();
            (0..400)
                .map(|i: u32| injector.draw(b"key", "GET", &i.to_le_bytes()).0)
                .collect::<Vec<_>>()
        };
        assert!(draws(1, 0.0).iter().all(Option::is_none));
        assert!(draws(1, 1.0).iter().all(|lie| is_lie(*lie)));
        assert_eq!(draws(1, 0.3), draws(1, 0.3));
        assert_ne!(draws(1, 0.3), draws(2, 0.3));
        let some = draws(1, 0.3).into_iter().flatten().collect::<Vec<_>>();
        assert!((80..160).contains(&some.len()), "{}", some.len());
        let repeats = some
            .iter()
            .filter(|l| matches!(l, Injected::RepeatedId(_)))
            .count();
        assert!(
            repeats > 20 && some.len() - repeats > 20,
            "{repeats} of {}",
            some.len()
        );
        // The rate decides only whether: the lies drawn at 0.3 are the
        // first of those drawn at 1.
        let all = draws(1, 1.0);
        for (low, high) in draws(1, 0.3).iter().zip(&all) {
            if low.is_some() {
                assert_eq!(low, high);
            }
        }
    }
}
