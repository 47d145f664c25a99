//! The HTTP face of the sandbox: routing ([`handle`], the one service
//! function: the connection layer in `server` calls it, and so can a test,
//! in-process), authentication, fault injection at its hook points,
//! applying a validated request to the store (validation itself is in
//! `request`), and a drawn lie told to a list (`lies`). Every answer is a
//! JSON envelope (`wire`). A dropped connection is [`Dropped`], which the
//! connection layer turns into a close without any response.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use hyper::body::{Body, Bytes};
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::deliver::{self, Deliveries, Outgoing, Target};
use super::injector::{Fate, Injector, RateLimited};
use super::keys::Keys;
use super::lies::Told;
use super::request::{read_body, Input, Trigger};
use super::state::Store;
use super::stats::{Counters, Injected};
use super::wire::{json_response, Op, Reply, Response};

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

/// A request whose connection is closed without any response (an
/// injected drop): the error that makes hyper do so.
#[derive(Debug)]
pub(crate) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped (injected)")
    }
}

impl std::error::Error for Dropped {}

/// The injected 500.
const INJECTED_ERROR: &str = "internal error (injected)";

/// The 429 of the rate limit, with `Retry-After` in whole seconds.
fn rate_limited(limited: RateLimited) -> Response {
    let message = format!(
        "rate limit exceeded (injected); retry after {} second(s)",
        limited.retry_after
    );
    let mut response = Reply::error(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(limited.retry_after));
    response
}

/// Answers one request: the resource, the sandbox's own routes, or a 404.
/// Every body is read (or drained) first, so every answer reaches a client
/// that is still sending.
pub(crate) async fn handle(
    shared: &Shared,
    request: Request<impl Body<Data = Bytes>>,
) -> Result<Response, Dropped> {
    let (parts, body) = request.into_parts();
    let (path, method) = (parts.uri.path(), &parts.method);
    if path == RESOURCE {
        return resource(shared, method, &parts.headers, body).await;
    }
    let body = read_body(body, &parts.headers).await;
    let keys = &shared.keys;
    Ok(match path {
        STATS | DELIVERIES if method != Method::GET => wrong_method(keys, method, path, "GET"),
        TRIGGER if method != Method::POST => wrong_method(keys, method, path, "POST"),
        STATS => json_response(StatusCode::OK, &json!({ "requests": shared.counters.snapshot() })),
        DELIVERIES => json_response(StatusCode::OK, &shared.deliveries.snapshot()),
        TRIGGER => trigger(shared, &parts.headers, body).into_response(),
        _ => Reply::error(
            StatusCode::NOT_FOUND,
            format!(
                "no route for `{}`; the sandbox serves `{RESOURCE}`",
                keys.quote(path)
            ),
        )
        .into_response(),
    })
}

/// `/v2.0/admin/webhook-subscriptions`, every method.
async fn resource(
    shared: &Shared,
    method: &Method,
    headers: &HeaderMap,
    body: impl Body<Data = Bytes>,
) -> Result<Response, Dropped> {
    shared.counters.count(method);
    let injector = shared.injector();
    // The rate limit is decided on arrival; every other fault once the
    // body is read, from the request itself.
    let admitted = injector.admit();
    let body = read_body(body, headers).await;
    if let Err(limited) = admitted {
        shared.counters.injected(Injected::RateLimited, "");
        return Ok(rate_limited(limited));
    }
    let key = headers
        .get(API_KEY_HEADER)
        .map_or(&b""[..], HeaderValue::as_bytes);
    let fate = injector.draw(key, method.as_str(), body.as_deref().unwrap_or_default());
    if !fate.latency.is_zero() {
        tokio::time::sleep(fate.latency).await;
    }
    let op = match operation(&shared.keys, method) {
        Ok(op) => op,
        Err(reply) => return Ok(reply.into_response()),
    };
    let Some(merchant) = authenticate(shared, headers) else {
        return Ok(Reply::bad_request("invalid API key").into_response());
    };
    let request = match body.and_then(|bytes| Input::parse(op, &bytes, &shared.keys)) {
        Ok(request) => request,
        Err(reply) => return Ok(reply.into_response()),
    };
    // The drawn fate applies here: before the write (no change happens)
    // and after it (the change stands, whatever the client is told).
    let before = fate.before_write();
    if let Some(answer) = injected(
        shared,
        &fate.request,
        before,
        Injected::Error,
        Injected::DropBefore,
    ) {
        return answer;
    }
    let (mut reply, change) = execute(shared, &merchant, request);
    if let Some(clock) = change {
        if let Err(err) = persist(shared, clock).await {
            reply = Reply::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"));
        }
    }
    let after = fate.after_write(op, reply.status);
    if let Some(answer) = injected(
        shared,
        &fate.request,
        after,
        Injected::PartialFailure,
        Injected::DropAfter,
    ) {
        return answer;
    }
    if let Some(lie) = fate.lie(op, reply.status) {
        let told = match lie.tell(reply.data_mut()) {
            Some(Told::RepeatedId) => Injected::RepeatedId,
            Some(Told::CutPage) => Injected::CutPage,
            None => return Ok(reply.into_response()),
        };
        shared.counters.injected(told, &fate.request);
    }
    Ok(reply.into_response())
}

/// The answer of a drawn fault at a hook point (the injected 500, or
/// [`Dropped`]), counted as `fail` or `drop`; `None` to proceed.
fn injected(
    shared: &Shared,
    request: &str,
    fate: Fate,
    fail: Injected,
    drop: Injected,
) -> Option<Result<Response, Dropped>> {
    match fate {
        Fate::Proceed => None,
        Fate::Fail => {
            shared.counters.injected(fail, request);
            let reply = Reply::error(StatusCode::INTERNAL_SERVER_ERROR, INJECTED_ERROR);
            Some(Ok(reply.into_response()))
        }
        Fate::Drop => {
            shared.counters.injected(drop, request);
            Some(Err(Dropped))
        }
    }
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

/// `/_sandbox/trigger`: `POST` with the key and `{"topic", "payload"?}`
/// starts delivering one event to every subscription of that topic of the
/// key's merchant (hidden ones included); 202 with the event id and the
/// targets. Never subject to faults, never counted as a request.
fn trigger(shared: &Shared, headers: &HeaderMap, body: Result<Bytes, Reply>) -> Reply {
    let Some(merchant) = authenticate(shared, headers) else {
        return Reply::bad_request("invalid API key");
    };
    let trigger = match body.and_then(|bytes| Trigger::parse(&bytes, &shared.keys)) {
        Ok(trigger) => trigger,
        Err(reply) => return reply,
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
    Reply::ok(StatusCode::ACCEPTED, &message, data)
}

fn wrong_method(keys: &Keys, method: &Method, path: &str, allowed: &str) -> Response {
    Reply::bad_request(format!(
        "method `{}` is not allowed on `{path}`; use {allowed}",
        keys.quote(method.as_str())
    ))
    .into_response()
}
