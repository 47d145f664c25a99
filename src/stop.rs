//! [`Stop`]: the run's one cancellation token: once requested no request
//! starts and every wait ends.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The cancellation token; clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<watch::Sender<bool>>);

/// A wait ended by [`Stop`], not by its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl Stop {
    /// Starts no new request from now on and ends every wait.
    pub fn request(&self) {
        self.0.send_replace(true);
    }

    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is requested (at once if it was); `self` holds the sender.
    pub async fn wait(&self) {
        let _ = self.0.subscribe().wait_for(|&requested| requested).await;
    }

    /// Sleeps for `duration` (tokio caps the deadline), or less if a stop is requested.
    pub async fn sleep(&self, duration: Duration) -> Result<(), Stopped> {
        self.or(tokio::time::sleep(duration)).await
    }

    /// Runs `work` unless or until a stop is requested.
    pub async fn or<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T, Stopped> {
        tokio::select! {
            biased;
            () = self.wait() => Err(Stopped),
            value = work => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_ends_every_wait_at_once() {
        let stop = Stop::default();
        let started = tokio::time::Instant::now();
        let sleeper = tokio::spawn({
            let stop = stop.clone();
            async move { stop.sleep(Duration::from_secs(3600)).await }
        });
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.or(std::future::pending::<()>()).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!sleeper.is_finished() && !waiter.is_finished());
        stop.request();
        assert_eq!(sleeper.await.ok(), Some(Err(Stopped)));
        assert_eq!(waiter.await.ok(), Some(Err(Stopped)));
        assert!(started.elapsed() < Duration::from_secs(2));
        // Once requested, waits end before they start.
        assert_eq!(stop.sleep(Duration::MAX).await, Err(Stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_request_a_sleep_takes_its_time() {
        let stop = Stop::default();
        let started = tokio::time::Instant::now();
        assert_eq!(stop.sleep(Duration::from_secs(5)).await, Ok(()));
        assert!(started.elapsed() >= Duration::from_secs(5));
        assert_eq!(stop.or(async { 7 }).await, Ok(7));
    }
}
