//! [`handle`], the one service function (the connection layer in `server`
//! calls it, and so can a test, in-process): routing, authentication, the
//! fault hook points, applying a valid request to the store, and the
//! sandbox's own routes. An injected drop is an error, on which hyper
//! closes the connection without a byte.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use hyper::body::{Body, Bytes};
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::config::{Faults, SandboxConfig};
use super::deliver::Deliveries;
use super::faults::Injector;
use super::keys::Keys;
use super::lock;
use super::stats::{Counters, Injected};
use super::store::{Record, StateFile, Store};
use super::wire::{
    json_response, parse_trigger, read_body, wrong_method, Input, Op, Reply, Response, RESOURCE,
};

/// The sandbox's request counters (no key needed).
const STATS: &str = "/_sandbox/stats";
/// Fires an event at the merchant's subscriptions of a topic (key needed).
const TRIGGER: &str = "/_sandbox/trigger";
/// The log of delivery attempts (no key needed).
const DELIVERIES: &str = "/_sandbox/deliveries";
/// The header carrying the merchant's key.
const API_KEY_HEADER: &str = "x-inveterate-api-key";

/// Everything the server's requests share.
#[derive(Debug)]
pub(crate) struct ServerState {
    /// Who is which merchant, and what replies never say.
    pub(crate) keys: Keys,
    store: Mutex<Store>,
    /// Where the store is kept, if anywhere.
    pub(crate) state_file: Option<StateFile>,
    pub(crate) counters: Counters,
    /// The faults' running form; replaced whole by `Sandbox::set_faults`.
    faults: Mutex<Arc<Injector>>,
    /// Events on their way to callback URLs, and the log of attempts.
    pub(crate) deliveries: Arc<Deliveries>,
}

impl ServerState {
    /// Checks `config` and opens the store (and its state file).
    pub(crate) fn new(config: SandboxConfig) -> anyhow::Result<ServerState> {
        let seed = config.faults.seed;
        let faults = Injector::new(config.faults)?;
        let keys = Keys::new(&config.api_keys)?;
        let mut store = Store::new(config.ids, seed);
        let state_file = config
            .state_file
            .map(|path| StateFile::open(path, &mut store))
            .transpose()?;
        let deliveries = Deliveries::new(config.deliveries).context("cannot set up deliveries")?;
        Ok(ServerState {
            keys,
            store: Mutex::new(store),
            state_file,
            counters: Counters::default(),
            faults: Mutex::new(Arc::new(faults)),
            deliveries: Arc::new(deliveries),
        })
    }

    /// Locks the store; a panic elsewhere never makes it unusable.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// The faults in force now.
    fn injector(&self) -> Arc<Injector> {
        Arc::clone(&lock(&self.faults))
    }

    /// Injects `faults` from the next request on; refuses invalid ones.
    pub(crate) fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        *lock(&self.faults) = Arc::new(Injector::new(faults)?);
        Ok(())
    }
}

/// Answers one request: the resource, the sandbox's own routes, or a 404.
/// Every body is read (or drained) first, so every answer reaches a client
/// that is still sending.
pub(crate) async fn handle(
    state: &ServerState,
    request: Request<impl Body<Data = Bytes>>,
) -> io::Result<Response> {
    let (parts, body) = request.into_parts();
    let (path, method, keys) = (parts.uri.path(), &parts.method, &state.keys);
    if path == RESOURCE {
        return resource(state, method, &parts.headers, body).await;
    }
    let body = read_body(body, &parts.headers).await;
    let reply = match path {
        STATS | DELIVERIES if method != Method::GET => wrong_method(keys, method, path, "GET"),
        TRIGGER if method != Method::POST => wrong_method(keys, method, path, "POST"),
        STATS => {
            return Ok(json_response(
                StatusCode::OK,
                &json!({ "requests": state.counters.snapshot() }),
            ))
        }
        DELIVERIES => return Ok(json_response(StatusCode::OK, &state.deliveries.snapshot())),
        TRIGGER => trigger(state, &parts.headers, body).unwrap_or_else(|reply| reply),
        _ => {
            let message = format!(
                "no route for `{}`; the sandbox serves `{RESOURCE}`",
                keys.quote(path)
            );
            Reply::error(StatusCode::NOT_FOUND, message)
        }
    };
    Ok(reply.into_response())
}

/// `/v2.0/admin/webhook-subscriptions`, every method.
async fn resource(
    state: &ServerState,
    method: &Method,
    headers: &HeaderMap,
    body: impl Body<Data = Bytes>,
) -> io::Result<Response> {
    state.counters.count(method);
    let injector = state.injector();
    // The rate limit is decided on arrival; every other fault once the
    // body is read, from the request itself.
    let admitted = injector.admit();
    let body = read_body(body, headers).await;
    if let Err(retry_after) = admitted {
        state.counters.injected(Injected::RateLimited, "");
        let message = format!("rate limit exceeded (injected); retry after {retry_after} second(s)");
        let mut response = Reply::error(StatusCode::TOO_MANY_REQUESTS, message).into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        return Ok(response);
    }
    let key = headers
        .get(API_KEY_HEADER)
        .map_or(&b""[..], HeaderValue::as_bytes);
    let fate = injector.draw(key, method.as_str(), body.as_deref().unwrap_or_default());
    if !fate.latency.is_zero() {
        tokio::time::sleep(fate.latency).await;
    }
    let valid = Op::of(method, &state.keys).and_then(|op| {
        let merchant = authenticate(state, headers)?;
        Ok((op, merchant, Input::parse(op, &body?, &state.keys)?))
    });
    let (op, merchant, input) = match valid {
        Ok(valid) => valid,
        Err(reply) => return Ok(reply.into_response()),
    };
    // The drawn faults apply here: before the write (nothing happens) and
    // after it (the change stands, whatever the client is told).
    if let Some(kind) = fate.before_write {
        return inject(state, kind, &fate.request);
    }
    let (mut reply, change) = execute(state, &merchant, input);
    if let (Some(clock), Some(file)) = (change, &state.state_file) {
        // On disk before it is answered; a failure is a 500 (the change
        // stays in memory, as a real 500 may).
        if let Err(err) = file.commit(&state.store, clock).await {
            reply = Reply::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"));
        }
    }
    if let Some(kind) = fate.after_write(op, reply.status) {
        return inject(state, kind, &fate.request);
    }
    let lie = fate.lie(op, reply.status);
    if let Some(told) = lie.and_then(|lie| lie.tell(&mut reply.data)) {
        state.counters.injected(told, &fate.request);
    }
    Ok(reply.into_response())
}

/// A drawn fault, counted and logged: the injected 500, or a drop.
fn inject(state: &ServerState, kind: Injected, request: &str) -> io::Result<Response> {
    state.counters.injected(kind, request);
    match kind {
        // hyper closes the connection without a byte.
        Injected::DropBefore | Injected::DropAfter => Err(io::Error::other("connection dropped (injected)")),
        _ => Ok(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error (injected)").into_response()),
    }
}

/// The merchant id of the request's key, if the key is accepted.
fn authenticate(state: &ServerState, headers: &HeaderMap) -> Result<String, Reply> {
    let key = headers.get(API_KEY_HEADER).and_then(|key| key.to_str().ok());
    let merchant = key
        .filter(|key| !key.is_empty())
        .and_then(|key| state.keys.merchant(key));
    merchant.ok_or_else(|| Reply::bad_request("invalid API key"))
}

/// Applies a valid request to the store; a write also returns the logical
/// clock of the change, to be on disk before it is answered. Synchronous:
/// the store's lock is never held across an `.await`.
fn execute(state: &ServerState, merchant: &str, input: Input) -> (Reply, Option<u64>) {
    let mut store = state.store();
    let now = Instant::now();
    let (status, done, record) = match input {
        Input::List => {
            let listed = store.list(merchant, Some(now)).map(|r| r.to_json(merchant));
            let data = json!({ "subscriptions": listed.collect::<Vec<_>>() });
            let reply = Reply::new(StatusCode::OK, "webhook subscriptions retrieved", data);
            return (reply, None);
        }
        Input::Create {
            topic,
            name,
            callback_url,
        } => {
            let hidden_until = state.injector().hidden_until(now);
            let record = store.create(merchant, (&topic, &name, &callback_url), hidden_until);
            (StatusCode::CREATED, "created", Ok(record))
        }
        Input::Update {
            topic,
            id,
            name,
            callback_url,
        } => {
            let record = store.update(merchant, &id, &topic, name.as_deref(), callback_url.as_deref());
            (StatusCode::OK, "updated", record.ok_or((id, topic)))
        }
        Input::Delete { topic, id } => (
            StatusCode::OK,
            "deleted",
            store.delete(merchant, &id, &topic).ok_or((id, topic)),
        ),
    };
    let (id, topic) = match record {
        Ok(record) => {
            let reply = Reply::new(
                status,
                format!("webhook subscription {done}"),
                record.to_json(merchant),
            );
            return (reply, Some(store.clock()));
        }
        Err((id, topic)) => (state.keys.quote(&id), state.keys.quote(&topic)),
    };
    let message = format!("no subscription with id `{id}` and topic `{topic}`; NO action was taken");
    (Reply::bad_request(message), None)
}

/// `POST /_sandbox/trigger` with the key and `{"topic", "payload"?}`:
/// starts delivering one event to every subscription of that topic of the
/// key's merchant (hidden ones included); 202 with the event id and the
/// subscriptions. Never subject to faults, never counted as a request.
fn trigger(state: &ServerState, headers: &HeaderMap, body: Result<Bytes, Reply>) -> Result<Reply, Reply> {
    let merchant = authenticate(state, headers)?;
    let (topic, payload) = parse_trigger(&body?, &state.keys)?;
    let to: Vec<Record> = state
        .store()
        .list(&merchant, None)
        .filter(|r| r.topic == topic)
        .cloned()
        .collect();
    let subscriptions: Vec<Value> = to
        .iter()
        .map(|r| json!({ "subscriptionId": r.id, "callbackUrl": r.callback_url }))
        .collect();
    let message = format!("event triggered for {} subscription(s)", to.len());
    let id = state.deliveries.trigger(merchant, topic.clone(), payload, to);
    let data = json!({ "id": id, "topic": topic, "subscriptions": subscriptions });
    Ok(Reply::new(StatusCode::ACCEPTED, message, data))
}
