//! A running sandbox: binding, serving (hyper's HTTP/1 loop per
//! connection, `http::handle` per request) on the caller's runtime or a
//! thread of its own, direct access for tests, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::task::{JoinError, JoinHandle, JoinSet};

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
    runner: Option<Runner>,
}

#[derive(Debug)]
enum Runner {
    Task(JoinHandle<()>),
    Thread(std::thread::JoinHandle<Result<(), JoinError>>),
}

impl Sandbox {
    /// Binds `listen` (`127.0.0.1:0` for a free port) and serves on the
    /// current tokio runtime until [`Sandbox::shutdown`] or drop.
    pub async fn start(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        Sandbox::spawn(listen, config)
    }

    /// Like [`Sandbox::start`], but serves on a runtime of its own, kept by
    /// a thread: for synchronous tests that run the CLI as a subprocess.
    pub fn start_background(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("invhooks-sandbox")
            .enable_all()
            .build()
            .context("cannot start the sandbox runtime")?;
        let mut sandbox = {
            let _in = runtime.enter();
            Sandbox::spawn(listen, config)?
        };
        if let Some(Runner::Task(serving)) = sandbox.runner.take() {
            let thread = std::thread::Builder::new()
                .name("invhooks-sandbox".to_owned())
                .spawn(move || runtime.block_on(serving))
                .context("cannot start the sandbox thread")?;
            sandbox.runner = Some(Runner::Thread(thread));
        }
        Ok(sandbox)
    }

    /// Binds `listen` and serves on the current runtime.
    fn spawn(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let state = Arc::new(ServerState::new(config)?);
        let listener =
            std::net::TcpListener::bind(listen).with_context(|| format!("cannot listen on `{listen}`"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let stop = Stop::default();
        let serving = tokio::spawn(serve(listener, Arc::clone(&state), stop.clone()));
        Ok(Sandbox {
            addr,
            state,
            stop,
            runner: Some(Runner::Task(serving)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/v2.0`, as a client is configured.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    /// Inserts live subscriptions `(topic, name, callback_url)` without
    /// validation (tests plant odd live data this way) or counting a
    /// request; an unknown key becomes a new merchant. A failure to write
    /// the state file is ignored here (the next write retries).
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

    /// The key's merchant's subscriptions, sorted by id, those a visibility
    /// delay hides from GET included.
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

    /// Every fault injected so far (the last 10,000; not the 429s, which
    /// depend on time), e.g. `POST 3fa2c1d0#2 drop after`, sorted: the same
    /// seed gives the same log however requests interleave.
    pub fn fault_log(&self) -> Vec<String> {
        self.state.counters.fault_log()
    }

    pub fn reset_stats(&self) {
        self.state.counters.reset();
    }

    /// Injects `faults` from the next request on (an outage that ends, a
    /// proxy that stops lying): a full token bucket, every request's count
    /// from one again; hidden subscriptions stay hidden until their time.
    /// Refuses invalid faults, keeping the old ones.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        *lock(&self.state.faults) = Arc::new(Injector::new(faults)?);
        Ok(())
    }

    /// Stops accepting connections and waits (up to [`GRACE`]) for requests
    /// in flight. A drop stops it too, without waiting on the caller's
    /// runtime.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.request();
        match self.runner.take() {
            Some(Runner::Task(task)) => task.await.context("the sandbox server task failed")?,
            Some(Runner::Thread(thread)) => tokio::task::spawn_blocking(move || join(thread))
                .await
                .context("the sandbox server thread failed")??,
            None => {}
        }
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.request();
        if let Some(Runner::Thread(thread)) = self.runner.take() {
            let _ = join(thread);
        }
    }
}

/// Serves until `stop`, then lets requests in flight finish (for at most
/// [`GRACE`]) and closes idle connections.
async fn serve(listener: tokio::net::TcpListener, state: Arc<ServerState>, stop: Stop) {
    let mut connections = JoinSet::new();
    while let Ok(accepted) = stop.or(listener.accept()).await {
        // Forget the connections that are done.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, Arc::clone(&state), stop.clone()));
            }
            // One connection gone wrong, or e.g. too many open files: a
            // moment before accepting again.
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

fn join(thread: std::thread::JoinHandle<Result<(), JoinError>>) -> anyhow::Result<()> {
    let served = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the sandbox server thread panicked"))?;
    Ok(served?)
}
