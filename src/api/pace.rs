//! A [`Pacer`] bounds one client's requests in flight (AIMD): a 429 halves the bound and
//! pauses every request until its `Retry-After`; each run of successes raises it by one.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

const MAX_IN_FLIGHT: usize = 64;
/// Longest pause whatever a caller asks: keeps `Instant` arithmetic from overflow.
const MAX_PAUSE: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug, Default)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
    resume_at: Option<Instant>,
}

/// A slot for one request; frees itself on drop.
#[derive(Debug)]
pub struct Permit<'a>(&'a Pacer);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
        self.0.released.notify_waiters();
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                limit: MAX_IN_FLIGHT,
                ..State::default()
            }),
            released: Notify::new(),
        }
    }
}

impl Pacer {
    fn lock(&self) -> MutexGuard<'_, State> {
        // After a panic mid-update the counters are still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until any pause has passed and fewer than the limit are in flight.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let released = self.released.notified();
            let pause = {
                let mut state = self.lock();
                match state.resume_at {
                    Some(at) if at > Instant::now() => Some(at),
                    _ if state.in_flight < state.limit => {
                        state.in_flight += 1;
                        return Permit(self);
                    }
                    _ => None,
                }
            };
            match pause {
                Some(at) => tokio::time::sleep_until(at).await,
                None => released.await,
            }
        }
    }

    /// A 429: halve the requests in flight and pause everyone for `pause`.
    pub fn throttled(&self, pause: Duration) {
        let mut state = self.lock();
        state.limit = (state.in_flight.min(state.limit) / 2).max(1);
        state.successes = 0;
        let until = Instant::now() + pause.min(MAX_PAUSE);
        state.resume_at = Some(state.resume_at.map_or(until, |at| at.max(until)));
    }

    /// After `limit` successes in a row, one more in flight.
    pub fn succeeded(&self) {
        let mut state = self.lock();
        state.successes += 1;
        if state.successes >= state.limit && state.limit < MAX_IN_FLIGHT {
            state.limit += 1;
            state.successes = 0;
        }
    }

    pub fn limit(&self) -> usize {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_in_flight_and_pauses() {
        let pacer = Arc::new(Pacer::default());
        let permits: Vec<Permit> = futures_util::future::join_all((0..8).map(|_| pacer.acquire())).await;
        pacer.throttled(Duration::from_secs(1));
        assert_eq!(pacer.limit(), 4);
        drop(permits);
        let start = Instant::now();
        let _permit = pacer.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(1), "the pause is honoured");
    }

    #[tokio::test(start_paused = true)]
    async fn limit_blocks_until_a_permit_is_released() {
        let pacer = Arc::new(Pacer::default());
        let first = pacer.acquire().await;
        pacer.throttled(Duration::ZERO);
        assert_eq!(pacer.limit(), 1);
        let waiter = tokio::spawn({
            let pacer = Arc::clone(&pacer);
            async move { drop(pacer.acquire().await) }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        assert!(waiter.await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_bounded_and_never_overflows() {
        let pacer = Arc::new(Pacer::default());
        pacer.throttled(Duration::MAX);
        pacer.throttled(Duration::from_secs(u64::MAX));
        let start = Instant::now();
        let _permit = pacer.acquire().await;
        let waited = start.elapsed();
        assert!(
            waited >= MAX_PAUSE && waited < MAX_PAUSE + Duration::from_secs(1),
            "{waited:?}"
        );
    }

    #[test]
    fn successes_raise_the_limit_again() {
        let pacer = Pacer::default();
        pacer.throttled(Duration::ZERO);
        assert_eq!(pacer.limit(), 1);
        pacer.succeeded();
        assert_eq!(pacer.limit(), 2);
        pacer.succeeded();
        pacer.succeeded();
        assert_eq!(pacer.limit(), 3);
    }
}
