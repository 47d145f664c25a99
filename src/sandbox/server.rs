//! A running sandbox (hyper's HTTP/1 loop per connection, on the caller's runtime) and [`handle`],
//! the one service function: routes, authentication, the fault hook points.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Value};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::deliver::Deliveries;
use super::faults::{Counters, Injected, Injector};
use super::lock;
use super::store::{StateFile, Store, Stored};
use super::wire::{merchant_id, AcceptedKeys};
use super::wire::{parse_trigger, read_body, wrong_method, Input, Reply, Response, RESOURCE};
use super::{Faults, SandboxConfig};
use crate::model::LiveSubscription;
use crate::stop::Stop;

const GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server, stopped by [`Sandbox::shutdown`] or drop.
pub struct Sandbox {
    addr: SocketAddr,
    pub(super) state: Arc<ServerState>,
    stop: Stop,
    serving: JoinHandle<()>,
}

impl Sandbox {
    /// Binds `listen` (`127.0.0.1:0` for a free port) and serves on the current runtime.
    pub async fn start(listen: SocketAddr, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let mut store = Store::new(config.ids, config.faults.seed);
        let faults = Mutex::new(Arc::new(Injector::new(config.faults)?));
        let keys = AcceptedKeys::new(&config.api_keys)?;
        let state_file = config.state_file.map(|path| StateFile::open(path, &mut store));
        let state_file = state_file.transpose()?;
        let deliveries = Deliveries::new(config.deliveries).context("cannot set up deliveries")?;
        let state = Arc::new(ServerState {
            keys,
            store: Mutex::new(store),
            state_file,
            counters: Counters::default(),
            faults,
            deliveries: Arc::new(deliveries),
        });
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
            serving,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/v2.0`, as a client is configured.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    /// Plants `(topic, name, callback_url)`s unvalidated and uncounted (a new key is a new merchant).
    pub fn seed(&self, api_key: &str, subs: &[(&str, &str, &str)]) -> Vec<LiveSubscription> {
        let merchant = self.state.keys.add(api_key);
        let mut store = lock(&self.state.store);
        let created = subs.iter().map(|sub| store.create(&merchant, *sub, None));
        created.map(|record| record.to_live()).collect()
    }

    /// Sorted by id, those a visibility delay hides from GET included.
    pub fn subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, None)
    }

    pub fn visible_subscriptions(&self, api_key: &str) -> Vec<LiveSubscription> {
        self.listed(api_key, Some(Instant::now()))
    }

    fn listed(&self, api_key: &str, visible_at: Option<Instant>) -> Vec<LiveSubscription> {
        let store = lock(&self.state.store);
        let listed = store.list(&merchant_id(api_key), visible_at);
        listed.map(|r| r.to_live()).collect()
    }

    /// What tests read: requests by method, faults by kind, the fault log.
    pub fn counters(&self) -> &Counters {
        &self.state.counters
    }

    /// From the next request on (a full token bucket; hidden ones stay hidden); invalid ones are refused.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        *lock(&self.state.faults) = Arc::new(Injector::new(faults)?);
        Ok(())
    }

    /// Stops accepting connections, waits (up to [`GRACE`]) for requests in flight; a drop does not wait.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.request();
        (&mut self.serving)
            .await
            .context("the sandbox server task failed")
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sandbox({})", self.addr)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.request();
    }
}

/// Serves until `stop`, then lets requests in flight finish (up to [`GRACE`]).
async fn serve(listener: tokio::net::TcpListener, state: Arc<ServerState>, stop: Stop) {
    let (graceful, mut connections) = (GracefulShutdown::new(), JoinSet::new());
    while let Ok(accepted) = stop.or(listener.accept()).await {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = accepted else {
            // E.g. too many open files: a moment before accepting again.
            stop.sleep(Duration::from_millis(50)).await.unwrap_or(());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let service = service_fn(move |request: Request<Incoming>| {
            let state = Arc::clone(&state);
            async move { handle(&state, request).await }
        });
        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        connections.spawn(graceful.watch(conn));
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown()).await.is_err() {
        connections.abort_all();
    }
    state.deliveries.stop();
}

const STATS: &str = "/_sandbox/stats";
const TRIGGER: &str = "/_sandbox/trigger";
const DELIVERIES: &str = "/_sandbox/deliveries";
const API_KEY_HEADER: &str = "x-inveterate-api-key";

pub(super) struct ServerState {
    keys: AcceptedKeys,
    store: Mutex<Store>,
    state_file: Option<StateFile>,
    counters: Counters,
    /// Replaced whole by `Sandbox::set_faults`.
    faults: Mutex<Arc<Injector>>,
    deliveries: Arc<Deliveries>,
}

/// Every body is read (or drained) first, so a client still sending gets its answer; a drop is an error.
pub(super) async fn handle(
    state: &ServerState,
    request: Request<impl Body<Data = Bytes>>,
) -> io::Result<Response> {
    let (parts, body) = request.into_parts();
    let (path, method, keys) = (parts.uri.path(), &parts.method, &state.keys);
    if path == RESOURCE {
        return resource(state, &parts, body).await;
    }
    let body = read_body(body).await;
    let reply = match path {
        STATS | DELIVERIES if method != Method::GET => wrong_method(keys, method, path, "GET"),
        TRIGGER if method != Method::POST => wrong_method(keys, method, path, "POST"),
        STATS => Reply {
            status: StatusCode::OK,
            message: None,
            data: json!({ "requests": state.counters.stats() }),
        },
        DELIVERIES => Reply {
            status: StatusCode::OK,
            message: None,
            data: state.deliveries.snapshot(),
        },
        TRIGGER => trigger(state, &parts.headers, body).unwrap_or_else(|reply| reply),
        _ => {
            let path = keys.quote(path);
            let message = format!("no route for `{path}`; the sandbox serves `{RESOURCE}`");
            Reply::error(StatusCode::NOT_FOUND, message)
        }
    };
    Ok(reply.into_response())
}

async fn resource(state: &ServerState, parts: &Parts, body: impl Body<Data = Bytes>) -> io::Result<Response> {
    let (method, headers) = (&parts.method, &parts.headers);
    state.counters.count(method);
    let injector = Arc::clone(&lock(&state.faults));
    // The rate limit is decided on arrival; every other fault from the request once it is read.
    let admitted = injector.admit();
    let body = read_body(body).await;
    if let Err(retry_after) = admitted {
        state.counters.injected(Injected::RateLimited, "");
        let message = format!("rate limit exceeded (injected); retry after {retry_after} second(s)");
        let mut response = Reply::error(StatusCode::TOO_MANY_REQUESTS, message).into_response();
        response.headers_mut().insert(RETRY_AFTER, retry_after.into());
        return Ok(response);
    }
    let key = headers.get(API_KEY_HEADER).map(HeaderValue::as_bytes);
    let read = body.as_deref().unwrap_or_default();
    let (fault, request) = injector.draw(key.unwrap_or_default(), method.as_str(), read);
    if !injector.faults.latency.is_zero() {
        tokio::time::sleep(injector.faults.latency).await;
    }
    // A method the resource does not serve is a 400 before a missing key.
    let valid = Input::expected(method, &state.keys).and_then(|_| {
        let merchant = authenticate(state, headers)?;
        Ok((merchant, Input::parse(method, &body?, &state.keys)?))
    });
    let (merchant, input) = match valid {
        Ok(valid) => valid,
        Err(reply) => return Ok(reply.into_response()),
    };
    if let Some(kind @ (Injected::Error | Injected::DropBefore)) = fault {
        return inject(state, kind, &request);
    }
    let (mut reply, change) = execute(state, &injector, &merchant, input);
    if let (Some(clock), Some(file)) = (change, &state.state_file) {
        // On disk before it is answered; a failure is a 500 (the change stays, as a real 500's may).
        if let Err(err) = file.commit(&state.store, clock).await {
            reply = Reply::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"));
        }
    }
    // A refusal of the store is answered honestly: nothing happened.
    match fault.filter(|_| reply.status.is_success()) {
        Some(kind @ (Injected::DropAfter | Injected::PartialFailure)) => {
            return inject(state, kind, &request)
        }
        Some(lie) if lie.tell(&mut reply.data) => state.counters.injected(lie, &request),
        _ => {}
    }
    Ok(reply.into_response())
}

/// A drawn fault, counted and logged: a drop, or the injected 500.
fn inject(state: &ServerState, kind: Injected, request: &str) -> io::Result<Response> {
    state.counters.injected(kind, request);
    match kind {
        Injected::DropBefore | Injected::DropAfter => Err(io::Error::other("connection dropped (injected)")),
        _ => Ok(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error (injected)").into_response()),
    }
}

fn authenticate(state: &ServerState, headers: &HeaderMap) -> Result<String, Reply> {
    // No accepted key is empty.
    let key = headers.get(API_KEY_HEADER).and_then(|key| key.to_str().ok());
    let merchant = key.and_then(|key| state.keys.merchant(key));
    merchant.ok_or_else(|| Reply::bad_request("invalid API key"))
}

/// A write also returns its clock, to be on disk before it is answered (the lock is not held that long).
fn execute(state: &ServerState, injector: &Injector, merchant: &str, input: Input) -> (Reply, Option<u64>) {
    let mut store = lock(&state.store);
    let now = Instant::now();
    let (status, message, record) = match input {
        Input::List => {
            let listed = store.list(merchant, Some(now)).map(|r| r.to_json(merchant));
            let data = json!({ "subscriptions": listed.collect::<Vec<_>>() });
            let reply = Reply::new(StatusCode::OK, "webhook subscriptions retrieved", data);
            return (reply, None);
        }
        Input::Create { topic, name, url } => {
            let hidden_until = Some(now + injector.faults.visibility_delay);
            let record = store.create(merchant, (&topic, &name, &url), hidden_until);
            (StatusCode::CREATED, "webhook subscription created", Ok(record))
        }
        Input::Update { topic, id, name, url } => {
            let updated = store.update(merchant, &id, &topic, name, url).ok_or((id, topic));
            (StatusCode::OK, "webhook subscription updated", updated)
        }
        Input::Delete { topic, id } => {
            let deleted = store.delete(merchant, &id, &topic).ok_or((id, topic));
            (StatusCode::OK, "webhook subscription deleted", deleted)
        }
    };
    match record {
        Ok(record) => {
            let reply = Reply::new(status, message, record.to_json(merchant));
            (reply, Some(store.clock))
        }
        Err((id, topic)) => {
            let (id, topic) = (state.keys.quote(&id), state.keys.quote(&topic));
            let message = format!("no subscription with id `{id}` and topic `{topic}`; NO action was taken");
            (Reply::bad_request(message), None)
        }
    }
}

/// To each subscription of the topic of the key's merchant, hidden ones too; no faults, not counted.
fn trigger(state: &ServerState, headers: &HeaderMap, body: Result<Bytes, Reply>) -> Result<Reply, Reply> {
    let merchant = authenticate(state, headers)?;
    let (topic, payload) = parse_trigger(&body?, &state.keys)?;
    let to: Vec<Stored> = (lock(&state.store).list(&merchant, None))
        .filter(|r| r.topic == topic)
        .cloned()
        .collect();
    let entry = |r: &Stored| json!({ "subscriptionId": r.id, "callbackUrl": r.callback_url });
    let subscriptions: Vec<Value> = to.iter().map(entry).collect();
    let message = format!("event triggered for {} subscription(s)", to.len());
    let id = state.deliveries.trigger(merchant, topic.clone(), payload, to);
    let data = json!({ "id": id, "topic": topic, "subscriptions": subscriptions });
    Ok(Reply::new(StatusCode::ACCEPTED, message, data))
}
