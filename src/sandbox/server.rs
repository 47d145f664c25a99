//! A running sandbox: binding, serving (hyper's HTTP/1 loop per
//! connection, `http::handle` per request) on the caller's runtime, direct
//! access for tests, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::task::{JoinHandle, JoinSet};

use super::config::{Faults, SandboxConfig};
use super::faults::Injector;
use super::http::{handle, ServerState};
use super::lock;
use super::stats::RequestStats;
use crate::model::LiveSubscription;
use crate::stop::Stop;

/// How long a shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server, stopped by [`Sandbox::shutdown`] or drop.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    pub(super) state: Arc<ServerState>,
    stop: Stop,
    serving: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds `listen` (`127.0.0.1:0` for a free port) and serves on the
    /// current tokio runtime until [`Sandbox::shutdown`] or drop.
    pub async fn start(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let state = Arc::new(ServerState::new(config)?);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on `{listen}`"))?;
        let addr = listener.local_addr()?;
        let stop = Stop::default();
        let serving = tokio::spawn(serve(listener, Arc::clone(&state), stop.clone()));
        Ok(Sandbox {
            addr,
            state,
            stop,
            serving: Some(serving),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/v2.0`, as a client is configured.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    /// Plants `(topic, name, callback_url)`s unvalidated and uncounted (a new
    /// key is a new merchant); a failed state-file write waits for the next.
    pub fn seed(&self, api_key: &str, subs: &[(&str, &str, &str)]) -> Vec<LiveSubscription> {
        let merchant = self.state.keys.add(api_key);
        let mut store = lock(&self.state.store);
        let created = subs
            .iter()
            .map(|sub| store.create(&merchant, *sub, None).to_live())
            .collect();
        let clock = store.clock();
        drop(store);
        if let Some(file) = &self.state.state_file {
            let _ = file.save(&self.state.store, clock);
        }
        created
    }

    /// Sorted by id, those a visibility delay hides from GET included.
    pub fn subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, None)
    }

    /// Those a GET shows now.
    pub fn visible_subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, Some(tokio::time::Instant::now()))
    }

    fn listed(&self, api_key: &str, visible_at: Option<tokio::time::Instant>) -> Vec<LiveSubscription> {
        let Some(merchant) = self.state.keys.merchant(api_key) else {
            return Vec::new();
        };
        let store = lock(&self.state.store);
        store.list(&merchant, visible_at).map(|r| r.to_live()).collect()
    }

    pub fn stats(&self) -> RequestStats {
        self.state.counters.snapshot()
    }

    /// The last 10,000 faults but 429s (`POST 3fa2c1d0#2 drop after`), sorted:
    /// one seed gives one log however requests interleave.
    pub fn fault_log(&self) -> Vec<String> {
        self.state.counters.fault_log()
    }

    pub fn reset_stats(&self) {
        self.state.counters.reset();
    }

    /// From the next request on: a full token bucket, fresh request counts;
    /// hidden subscriptions stay hidden. Invalid faults keep the old ones.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        *lock(&self.state.faults) = Arc::new(Injector::new(faults)?);
        Ok(())
    }

    /// Stops accepting connections and waits (up to [`GRACE`]) for requests
    /// in flight. A drop stops it too, without waiting.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.request();
        if let Some(serving) = self.serving.take() {
            serving.await.context("the sandbox server task failed")?;
        }
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.request();
    }
}

/// Serves until `stop`, then lets requests in flight finish (up to [`GRACE`]).
async fn serve(listener: tokio::net::TcpListener, state: Arc<ServerState>, stop: Stop) {
    let mut connections = JoinSet::new();
    while let Ok(accepted) = stop.or(listener.accept()).await {
        // Forget the connections that are done.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, Arc::clone(&state), stop.clone()));
            }
            // E.g. too many open files: a moment before accepting again.
            Err(_) => {
                let _ = stop.sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        connections.abort_all();
    }
    state.deliveries.stop();
}

async fn connection(stream: tokio::net::TcpStream, state: Arc<ServerState>, stop: Stop) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let state = Arc::clone(&state);
        async move { handle(&state, request).await }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    if stop.or(conn.as_mut()).await.is_err() {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}
