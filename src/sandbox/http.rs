//! The HTTP face of the sandbox: routing, the `{"message","data"}`
//! envelope, authentication, fault injection at its hook points, and
//! applying a validated request to the store (validation itself is in
//! `request`), and a drawn lie told to a list (`lies`). Every answer is an envelope: axum's own rejections (413,
//! 415, 422, text/plain) never reach a client. A dropped connection is a
//! response marked [`DropConnection`], which the connection layer in
//! `server` turns into a close without any response.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::deliver::{self, Deliveries, Outgoing, Target};
use super::injector::{Fate, Injector, RateLimited};
use super::keys::Keys;
use super::lies::Told;
use super::request::{read_body, Input, Trigger};
use super::state::Store;
use super::stats::{Counters, Injected};
use super::wire::{Op, Reply};

/// The one resource, as the real API spells it.
pub(crate) const RESOURCE: &str = "/v2.0/admin/webhook-subscriptions";
/// The sandbox's own request counters (no key needed).
const STATS: &str = "/_sandbox/stats";
/// Fires an event at the merchant's subscriptions of a topic (key needed).
const TRIGGER: &str = "/_sandbox/trigger";
/// The log of delivery attempts (no key needed).
const DELIVERIES: &str = "/_sandbox/deliveries";
/// The header carrying the merchant's key.
const API_KEY_HEADER: &str = "x-inveterate-api-key";

/// What the server shares between requests.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The accepted keys: who is which merchant, and what replies never say.
    pub(crate) keys: Keys,
    pub(crate) store: Mutex<Store>,
    pub(crate) counters: Counters,
    /// The faults' running form; replaced whole by `Sandbox::set_faults`.
    pub(crate) faults: RwLock<Arc<Injector>>,
    /// Taken to write the state file: one write at a time, and the writes
    /// waiting meanwhile find theirs done by the next one.
    pub(crate) persisting: tokio::sync::Mutex<()>,
    /// Events on their way to callback URLs, and the log of attempts.
    pub(crate) deliveries: Arc<Deliveries>,
}

impl Shared {
    /// Locks the store; a panic elsewhere never makes it unusable.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The faults in force now.
    pub(crate) fn injector(&self) -> Arc<Injector> {
        Arc::clone(&self.faults.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Injects `faults` from the next request on.
    pub(crate) fn set_injector(&self, faults: Injector) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(faults);
    }
}

/// Marks a response that must not be sent: the connection is closed
/// instead (see `server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DropConnection;

/// The injected 500.
const INJECTED_ERROR: &str = "internal error (injected)";

fn injected_error() -> Response {
    Reply::error(StatusCode::INTERNAL_SERVER_ERROR, INJECTED_ERROR).into_response()
}

/// A response that is never sent: the connection is closed without one.
/// Served any other way (e.g. without the sandbox's connection layer), it
/// reads as an empty 500.
fn dropped() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

/// The 429 of the rate limit, with `Retry-After` in whole seconds.
fn rate_limited(limited: RateLimited) -> Response {
    let message = format!(
        "rate limit exceeded (injected); retry after {} second(s)",
        limited.retry_after
    );
    let mut response = Reply::error(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(limited.retry_after));
    response
}

/// The sandbox's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(RESOURCE, any(resource))
        .route(STATS, any(stats))
        .route(TRIGGER, any(trigger))
        .route(DELIVERIES, any(deliveries))
        .fallback(not_found)
        .with_state(shared)
}

/// `/v2.0/admin/webhook-subscriptions`, every method.
async fn resource(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    shared.counters.count(&parts.method);
    // Every fault is decided now, as the request arrives.
    let arrival = shared.injector().arrive();
    // Read (or drain) the body first, so every answer below reaches a client
    // that is still sending.
    let body = read_body(body, &parts.headers).await;
    let fate = match arrival {
        Ok(fate) => fate,
        Err(limited) => {
            shared.counters.injected(Injected::RateLimited);
            return rate_limited(limited);
        }
    };
    if !fate.latency.is_zero() {
        tokio::time::sleep(fate.latency).await;
    }
    let op = match operation(&shared.keys, &parts.method) {
        Ok(op) => op,
        Err(reply) => return reply.into_response(),
    };
    let Some(merchant) = authenticate(&shared, &parts.headers) else {
        return Reply::bad_request("invalid API key").into_response();
    };
    let request = match body.and_then(|bytes| Input::parse(op, &bytes, &shared.keys)) {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    // The drawn fate applies here: before the write (no change happens)
    // and after it (the change stands, whatever the client is told).
    if let Some(response) = injected(
        &shared,
        fate.before_write(),
        Injected::Error,
        Injected::DropBefore,
    ) {
        return response;
    }
    let (mut reply, change) = execute(&shared, &merchant, request);
    if let Some(clock) = change {
        if let Err(err) = persist(&shared, clock).await {
            reply = Reply::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"));
        }
    }
    let after = fate.after_write(op, reply.status);
    if let Some(response) = injected(&shared, after, Injected::PartialFailure, Injected::DropAfter) {
        return response;
    }
    if let Some(lie) = fate.lie(op, reply.status) {
        match lie.tell(reply.data_mut()) {
            Some(Told::RepeatedId) => shared.counters.injected(Injected::RepeatedId),
            Some(Told::CutPage) => shared.counters.injected(Injected::CutPage),
            None => {}
        }
    }
    reply.into_response()
}

/// The operation a method asks for; any other method is a 400.
fn operation(keys: &Keys, method: &Method) -> Result<Op, Reply> {
    match *method {
        Method::GET => Ok(Op::List),
        Method::POST => Ok(Op::Create),
        Method::PUT => Ok(Op::Update),
        Method::DELETE => Ok(Op::Delete),
        ref other => Err(Reply::bad_request(format!(
            "method `{}` is not allowed on `{RESOURCE}`; use GET, POST, PUT or DELETE",
            keys.quote(other.as_str())
        ))),
    }
}

/// The response of a drawn fault, counted as `fail` or `drop`; `None`
/// when the fate is to proceed.
fn injected(shared: &Shared, fate: Fate, fail: Injected, drop: Injected) -> Option<Response> {
    match fate {
        Fate::Proceed => None,
        Fate::Fail => {
            shared.counters.injected(fail);
            Some(injected_error())
        }
        Fate::Drop => {
            shared.counters.injected(drop);
            Some(dropped())
        }
    }
}

/// The merchant id of the request's key, if the key is accepted.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let key = headers.get(API_KEY_HEADER)?.to_str().ok()?;
    if key.is_empty() {
        return None;
    }
    shared.keys.merchant(key)
}

/// Applies a valid request to the store; a successful write also returns
/// the logical clock of the change, to [`persist`] before it is answered.
/// Synchronous: the store's lock is never held across an `.await`.
fn execute(shared: &Shared, merchant: &str, input: Input) -> (Reply, Option<u64>) {
    let mut store = shared.store();
    let now = Instant::now();
    let (status, message, record) = match input {
        Input::List => {
            let subs: Vec<Value> = store
                .list_visible(merchant, now)
                .map(|r| r.to_json(merchant))
                .collect();
            let data = json!({ "subscriptions": subs });
            return (
                Reply::ok(StatusCode::OK, "webhook subscriptions retrieved", data),
                None,
            );
        }
        Input::Create {
            topic,
            name,
            callback_url,
        } => {
            let record = store.create(merchant, &topic, &name, &callback_url);
            if let Some(until) = shared.injector().hidden_until(now) {
                store.hide_until(merchant, &record.id, until);
            }
            (StatusCode::CREATED, "webhook subscription created", record)
        }
        Input::Update {
            topic,
            id,
            name,
            callback_url,
        } => match store.update(merchant, &id, &topic, name.as_deref(), callback_url.as_deref()) {
            Some(record) => (StatusCode::OK, "webhook subscription updated", record),
            None => return (not_found_reply(&shared.keys, &id, &topic), None),
        },
        Input::Delete { topic, id } => match store.delete(merchant, &id, &topic) {
            Some(record) => (StatusCode::OK, "webhook subscription deleted", record),
            None => return (not_found_reply(&shared.keys, &id, &topic), None),
        },
    };
    let reply = Reply::ok(status, message, record.to_json(merchant));
    (reply, Some(store.clock()))
}

/// Makes sure the state file (if any) holds the change at logical clock
/// `clock` before it is answered; an error is answered 500 (the change
/// stays in memory, as a real 500 may). Group commit: while one request
/// writes the file, the others wait for their turn, and most then find
/// their change already written with that one, so concurrent writes share
/// a rewrite of the whole file instead of queueing for one each.
async fn persist(shared: &Shared, clock: u64) -> anyhow::Result<()> {
    let _turn = shared.persisting.lock().await;
    // Serialised under the store's lock, written after it is released.
    let snapshot = shared.store().snapshot(clock)?;
    snapshot.map_or(Ok(()), |snapshot| snapshot.write())
}

fn not_found_reply(keys: &Keys, id: &str, topic: &str) -> Reply {
    Reply::bad_request(format!(
        "no subscription with id `{}` and topic `{}`; NO action was taken",
        keys.quote(id),
        keys.quote(topic)
    ))
}

/// `/_sandbox/stats`: the request counters.
async fn stats(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = read_body(body, &parts.headers).await;
    if parts.method != Method::GET {
        return wrong_method(&shared.keys, &parts.method, STATS, "GET");
    }
    Json(json!({ "requests": shared.counters.snapshot() })).into_response()
}

/// `/_sandbox/trigger`: `POST` with the key and `{"topic", "payload"?}`
/// starts delivering one event to every subscription of that topic of the
/// key's merchant (hidden ones included); 202 with the event id and the
/// targets. Never subject to faults, never counted as a request.
async fn trigger(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = read_body(body, &parts.headers).await;
    if parts.method != Method::POST {
        return wrong_method(&shared.keys, &parts.method, TRIGGER, "POST");
    }
    let Some(merchant) = authenticate(&shared, &parts.headers) else {
        return Reply::bad_request("invalid API key").into_response();
    };
    let trigger = match body.and_then(|bytes| Trigger::parse(&bytes, &shared.keys)) {
        Ok(trigger) => trigger,
        Err(reply) => return reply.into_response(),
    };
    let targets: Vec<Target> = shared
        .store()
        .list(&merchant)
        .filter(|r| r.topic == trigger.topic)
        .map(|r| Target {
            subscription_id: r.id.clone(),
            callback_url: r.callback_url.clone(),
        })
        .collect();
    let at = deliver::now();
    let event = Outgoing {
        id: shared.deliveries.next_id(),
        payload: trigger
            .payload
            .unwrap_or_else(|| crate::delivery::sample_payload(&trigger.topic, &merchant, &at)),
        shop_domain: deliver::shop_domain(&merchant),
        topic: trigger.topic,
        merchant_id: merchant,
        at,
    };
    let data = json!({
        "id": event.id,
        "topic": event.topic,
        "subscriptions": targets.iter().map(|t| json!({
            "subscriptionId": t.subscription_id,
            "callbackUrl": t.callback_url,
        })).collect::<Vec<_>>(),
    });
    let message = format!("event triggered for {} subscription(s)", targets.len());
    shared.deliveries.start(event, targets);
    Reply::ok(StatusCode::ACCEPTED, &message, data).into_response()
}

/// `/_sandbox/deliveries`: every delivery attempt logged, oldest first.
async fn deliveries(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = read_body(body, &parts.headers).await;
    if parts.method != Method::GET {
        return wrong_method(&shared.keys, &parts.method, DELIVERIES, "GET");
    }
    Json(shared.deliveries.snapshot()).into_response()
}

fn wrong_method(keys: &Keys, method: &Method, path: &str, allowed: &str) -> Response {
    Reply::bad_request(format!(
        "method `{}` is not allowed on `{path}`; use {allowed}",
        keys.quote(method.as_str())
    ))
    .into_response()
}

/// Any other path.
async fn not_found(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = read_body(body, &parts.headers).await;
    Reply::error(
        StatusCode::NOT_FOUND,
        format!(
            "no route for `{}`; the sandbox serves `{RESOURCE}`",
            shared.keys.quote(parts.uri.path())
        ),
    )
    .into_response()
}
