//! A running sandbox: binding, serving on the caller's runtime or on a
//! thread of its own, direct access for tests, and graceful shutdown.
//!
//! Connections are served with hyper's HTTP/1 server, each request by
//! `http::handle`: when it answers [`Dropped`](super::http::Dropped), the
//! service fails and hyper closes the connection at once without writing
//! anything. Each request's fate is its own; nothing is kept per
//! connection.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::config::SandboxConfig;
use super::deliver::Deliveries;
use super::faults::Faults;
use super::http::{handle, Shared};
use super::injector::Injector;
use super::keys::Keys;
use super::state::Store;
use super::stats::{Counters, RequestStats};
use crate::model::LiveSubscription;

/// How long a shutdown waits for requests in flight before giving up on
/// them.
const GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server. Dropping it stops the server: gracefully and
/// without waiting when it runs on the caller's runtime ([`Sandbox::start`]);
/// joining its thread when it has its own ([`Sandbox::start_background`]).
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    /// What every request shares; tests in `sandbox` call `http::handle`
    /// on it directly.
    pub(super) shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    runner: Option<Runner>,
}

/// Where the server loop runs.
#[derive(Debug)]
enum Runner {
    Task(tokio::task::JoinHandle<io::Result<()>>),
    Thread(std::thread::JoinHandle<io::Result<()>>),
}

impl Sandbox {
    /// Binds `listen` (use `127.0.0.1:0` for a free port) and serves on the
    /// current tokio runtime until [`Sandbox::shutdown`] or drop. Fails on a
    /// bad key list, an unreadable or corrupt state file, or a busy address.
    pub async fn start(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let (shared, listener, addr) = bind(listen, config)?;
        let (stop, stopped) = oneshot::channel();
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(Sandbox::new(addr, shared, stop, Runner::Task(task)))
    }

    /// Like [`Sandbox::start`], but serves on a thread with its own tokio
    /// runtime: for synchronous tests that run the CLI as a subprocess.
    /// Stop it with [`Sandbox::shutdown_blocking`] or by dropping it.
    pub fn start_background(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let (shared, listener, addr) = bind(listen, config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("invhooks-sandbox")
            .enable_all()
            .build()
            .context("cannot start the sandbox runtime")?;
        let (stop, stopped) = oneshot::channel();
        let server = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("invhooks-sandbox".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    serve(listener, server, stopped).await
                })
            })
            .context("cannot start the sandbox thread")?;
        Ok(Sandbox::new(addr, shared, stop, Runner::Thread(thread)))
    }

    fn new(addr: SocketAddr, shared: Arc<Shared>, stop: oneshot::Sender<()>, runner: Runner) -> Sandbox {
        Sandbox {
            addr,
            shared,
            stop: Some(stop),
            runner: Some(runner),
        }
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
    /// without validation (so tests can plant odd live data, e.g. a topic the
    /// tool does not know) and without counting a request. An unknown key
    /// becomes a new merchant. Returns the subscriptions with their ids. The
    /// state file, if any, is rewritten; a failure to write it is ignored
    /// here (the next write retries).
    pub fn seed(&self, api_key: &str, subs: &[(&str, &str, &str)]) -> Vec<LiveSubscription> {
        let merchant = self.shared.keys.add(api_key);
        let mut store = self.shared.store();
        let created = subs
            .iter()
            .map(|(topic, name, url)| store.create(&merchant, topic, name, url).to_live())
            .collect();
        let _ = store.save();
        created
    }

    /// The current subscriptions of the key's merchant, sorted by id; empty
    /// for an unknown key. Includes those a visibility delay still hides
    /// from GET.
    pub fn subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        let store = self.shared.store();
        match self.shared.keys.merchant(api_key) {
            Some(merchant) => store.list(&merchant).map(|r| r.to_live()).collect(),
            None => Vec::new(),
        }
    }

    /// The subscriptions of the key's merchant that a GET shows now (not
    /// hidden by a visibility delay), sorted by id; empty for an unknown key.
    pub fn visible_subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        let store = self.shared.store();
        match self.shared.keys.merchant(api_key) {
            Some(merchant) => store
                .list_visible(&merchant, tokio::time::Instant::now())
                .map(|r| r.to_live())
                .collect(),
            None => Vec::new(),
        }
    }

    /// How many requests reached the resource so far, by method, and how
    /// many faults were injected.
    pub fn stats(&self) -> RequestStats {
        self.shared.counters.snapshot()
    }

    /// Every fault injected into a request so far (the last 10,000; not
    /// the rate limit's 429s, which depend on time), as `METHOD
    /// digest#occurrence kind`, e.g. `POST 3fa2c1d0#2 drop after`, sorted:
    /// the same seed gives the same log however requests interleave.
    pub fn fault_log(&self) -> Vec<String> {
        self.shared.counters.fault_log()
    }

    /// Sets the request and fault counters back to zero, and empties the
    /// fault log.
    pub fn reset_stats(&self) {
        self.shared.counters.reset();
    }

    /// Injects `faults` instead from the next request on (an outage that
    /// ends, a proxy that stops lying): its seed, a full token bucket and
    /// every request's count from one again. Subscriptions already hidden stay
    /// hidden until their time; the counters go on counting. Refuses
    /// invalid faults, keeping the old ones.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        let injector = Injector::new(faults).context("invalid fault injection settings")?;
        self.shared.set_injector(injector);
        Ok(())
    }

    /// Stops accepting connections and waits (up to a few seconds) for
    /// requests in flight; works for both variants.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.signal_stop();
        match self.runner.take() {
            Some(Runner::Task(task)) => task.await.context("the sandbox server task failed")??,
            Some(Runner::Thread(thread)) => tokio::task::spawn_blocking(move || join(thread))
                .await
                .context("the sandbox server thread failed")??,
            None => {}
        }
        Ok(())
    }

    /// Stops a [`Sandbox::start_background`] server and joins its thread.
    /// For a [`Sandbox::start`] server it only signals the stop (it cannot
    /// block on its own runtime); use [`Sandbox::shutdown`] there.
    pub fn shutdown_blocking(mut self) -> anyhow::Result<()> {
        self.signal_stop();
        match self.runner.take() {
            Some(Runner::Thread(thread)) => join(thread),
            Some(Runner::Task(_)) | None => Ok(()),
        }
    }

    /// Serves until Ctrl-C (or SIGTERM on Unix), then shuts down gracefully.
    /// Prints nothing: the caller announces the address.
    pub async fn run_until_ctrl_c(self) -> anyhow::Result<()> {
        wait_for_signal().await?;
        self.shutdown().await
    }

    fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.signal_stop();
        if let Some(Runner::Thread(thread)) = self.runner.take() {
            let _ = join(thread);
        }
    }
}

/// Checks `config` and binds `listen`: what the server's requests share,
/// its listener (non-blocking, for tokio) and the address it got.
fn bind(
    listen: SocketAddr,
    config: SandboxConfig,
) -> anyhow::Result<(Arc<Shared>, std::net::TcpListener, SocketAddr)> {
    let seed = config.faults.seed;
    let faults = Injector::new(config.faults).context("invalid fault injection settings")?;
    let keys = Keys::new(&config.api_keys)?;
    let store = Store::open(config.state_file, config.ids, seed)?;
    let deliveries = Deliveries::new(config.deliveries).context("cannot set up deliveries")?;
    let shared = Arc::new(Shared {
        keys,
        store: Mutex::new(store),
        counters: Counters::default(),
        faults: RwLock::new(Arc::new(faults)),
        persisting: tokio::sync::Mutex::new(()),
        deliveries: Arc::new(deliveries),
    });
    let listener =
        std::net::TcpListener::bind(listen).with_context(|| format!("cannot listen on `{listen}`"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    Ok((shared, listener, addr))
}

/// Serves until `stopped` fires (or its sender is dropped), then shuts
/// down gracefully: stops accepting, lets requests in flight finish and
/// closes idle connections, waiting at most [`GRACE`] before aborting the
/// rest.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) -> io::Result<()> {
    let deliveries = Arc::clone(&shared.deliveries);
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        // Forget the connections that are done.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(connection(stream, Arc::clone(&shared), closed.clone()));
            }
            Err(err) if is_connection_error(&err) => {}
            // E.g. too many open files: wait a little before accepting again.
            Err(_) => tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = &mut stopped => break,
            },
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        connections.abort_all();
    }
    deliveries.stop();
    Ok(())
}

/// Serves one connection until the client closes it, a request is dropped,
/// or the server shuts down (after the request in flight, if any).
async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>, mut closing: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let shared = Arc::clone(&shared);
        async move { handle(&shared, request).await }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = closing.wait_for(|closing| *closing) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Errors of one connection while accepting: not the listener's fault.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

fn join(thread: std::thread::JoinHandle<io::Result<()>>) -> anyhow::Result<()> {
    match thread.join() {
        Ok(result) => result.context("the sandbox server failed"),
        Err(_) => anyhow::bail!("the sandbox server thread panicked"),
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")
}
