//! A running sandbox: binding, serving on the caller's runtime or on a
//! thread of its own, direct access for tests, and graceful shutdown.
//! Every connection runs hyper's HTTP/1 loop and every request
//! `http::handle`; when that fails (an injected drop), hyper closes the
//! connection without writing anything.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

use super::config::{Faults, SandboxConfig};
use super::http::{handle, ServerState};
use super::stats::RequestStats;
use crate::model::LiveSubscription;
use crate::stop::Stop;

/// How long a shutdown waits for requests in flight before giving up on
/// them.
const GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server, stopped by [`Sandbox::shutdown`] or drop.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    /// What every request shares; tests call `http::handle` on it.
    pub(super) state: Arc<ServerState>,
    stop: Stop,
    runner: Option<Runner>,
}

/// Where the server loop runs.
#[derive(Debug)]
enum Runner {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

impl Sandbox {
    /// Binds `listen` (`127.0.0.1:0` for a free port) and serves on the
    /// current tokio runtime until [`Sandbox::shutdown`] or drop. Fails on
    /// bad keys or faults, an unreadable or corrupt state file, or a busy
    /// address.
    pub async fn start(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let (mut sandbox, listener) = Sandbox::bind(listen, config)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let serving = serve(listener, Arc::clone(&sandbox.state), sandbox.stop.clone());
        sandbox.runner = Some(Runner::Task(tokio::spawn(serving)));
        Ok(sandbox)
    }

    /// Like [`Sandbox::start`], but serves on a thread with its own tokio
    /// runtime: for synchronous tests that run the CLI as a subprocess.
    pub fn start_background(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let (mut sandbox, listener) = Sandbox::bind(listen, config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("invhooks-sandbox")
            .enable_all()
            .build()
            .context("cannot start the sandbox runtime")?;
        let listener = {
            let _in = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let serving = serve(listener, Arc::clone(&sandbox.state), sandbox.stop.clone());
        let thread = std::thread::Builder::new()
            .name("invhooks-sandbox".to_owned())
            .spawn(move || runtime.block_on(serving))
            .context("cannot start the sandbox thread")?;
        sandbox.runner = Some(Runner::Thread(thread));
        Ok(sandbox)
    }

    /// Checks `config` and binds `listen`: the sandbox, not yet serving,
    /// and its listener (non-blocking, for tokio).
    fn bind(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<(Sandbox, std::net::TcpListener)> {
        let state = Arc::new(ServerState::new(config)?);
        let listener =
            std::net::TcpListener::bind(listen).with_context(|| format!("cannot listen on `{listen}`"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Stop::default();
        Ok((
            Sandbox {
                addr,
                state,
                stop,
                runner: None,
            },
            listener,
        ))
    }

    /// The address actually bound (with the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client is configured with: `http://ADDR/v2.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    /// Inserts live subscriptions `(topic, name, callback_url)` directly,
    /// without validation (tests plant odd live data this way) and without
    /// counting a request; an unknown key becomes a new merchant. Returns
    /// them with their ids. A failure to write the state file is ignored
    /// here (the next write retries).
    pub fn seed(&self, api_key: &str, subs: &[(&str, &str, &str)]) -> Vec<LiveSubscription> {
        let merchant = self.state.keys.add(api_key);
        let mut store = self.state.store();
        let created = subs
            .iter()
            .map(|sub| store.create(&merchant, *sub, None).to_live())
            .collect();
        if let (Some(file), Ok(text)) = (&self.state.state_file, store.render()) {
            let clock = store.clock();
            drop(store);
            let _ = file.write(clock, &text);
        }
        created
    }

    /// The current subscriptions of the key's merchant, sorted by id (those
    /// a visibility delay hides from GET included); none for an unknown key.
    pub fn subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, None)
    }

    /// The subscriptions of the key's merchant that a GET shows now.
    pub fn visible_subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, Some(tokio::time::Instant::now()))
    }

    fn listed(&self, api_key: &str, visible_at: Option<tokio::time::Instant>) -> Vec<LiveSubscription> {
        let Some(merchant) = self.state.keys.merchant(api_key) else {
            return Vec::new();
        };
        let store = self.state.store();
        store.list(&merchant, visible_at).map(|r| r.to_live()).collect()
    }

    /// How many requests reached the resource so far, by method, and how
    /// many faults were injected.
    pub fn stats(&self) -> RequestStats {
        self.state.counters.snapshot()
    }

    /// Every fault injected into a request so far (the last 10,000; not the
    /// rate limit's 429s, which depend on time), as `METHOD
    /// digest#occurrence kind`, e.g. `POST 3fa2c1d0#2 drop after`, sorted:
    /// the same seed gives the same log however requests interleave.
    pub fn fault_log(&self) -> Vec<String> {
        self.state.counters.fault_log()
    }

    /// Sets the request and fault counters back to zero, and empties the
    /// fault log.
    pub fn reset_stats(&self) {
        self.state.counters.reset();
    }

    /// Injects `faults` instead from the next request on (an outage that
    /// ends, a proxy that stops lying): a full token bucket, every
    /// request's count from one again; hidden subscriptions stay hidden
    /// until their time, the counters go on. Refuses invalid faults,
    /// keeping the old ones.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        self.state.set_faults(faults)
    }

    /// Stops accepting connections and waits (up to a few seconds) for
    /// requests in flight. Dropping the sandbox stops it too: without
    /// waiting on the caller's runtime, joining the thread of its own.
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

/// Serves until `stop`, then shuts down gracefully: stops accepting, lets
/// requests in flight finish and closes idle connections, waiting at most
/// [`GRACE`] before aborting the rest.
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

/// Serves one connection until the client closes it, a request is dropped,
/// or the server stops (after the request in flight, if any).
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

fn join(thread: std::thread::JoinHandle<()>) -> anyhow::Result<()> {
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the sandbox server thread panicked"))
}
