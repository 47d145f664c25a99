//! The HTTP face of the sandbox: routing, the `{"message","data"}`
//! envelope, authentication, and applying a validated request to the store
//! (validation itself is in `request`). Every answer is an envelope: axum's
//! own rejections (413, 415, 422, text/plain) never reach a client.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::faults::{Fate, Faults};
use super::request::{quote, read_body, Input};
use super::state::Store;
use super::stats::Counters;

/// The one resource, as the real API spells it.
pub(crate) const RESOURCE: &str = "/v2.0/admin/webhook-subscriptions";
/// The sandbox's own request counters (no key needed).
const STATS: &str = "/_sandbox/stats";
/// The header carrying the merchant's key.
const API_KEY_HEADER: &str = "x-inveterate-api-key";

/// What the server shares between requests.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) counters: Counters,
    pub(crate) faults: Faults,
}

impl Shared {
    /// Locks the store; a panic elsewhere never makes it unusable.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The four operations of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    List,
    Create,
    Update,
    Delete,
}

/// An envelope response: `{"message": …, "data": …}`.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    message: String,
    data: Value,
}

impl Reply {
    fn ok(status: StatusCode, message: &str, data: Value) -> Reply {
        Reply {
            status,
            message: message.to_owned(),
            data,
        }
    }

    fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply {
            status,
            message: message.into(),
            data: json!({}),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = json!({ "message": self.message, "data": self.data });
        (self.status, Json(body)).into_response()
    }
}

/// The sandbox's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(RESOURCE, any(resource))
        .route(STATS, any(stats))
        .fallback(not_found)
        .with_state(shared)
}

/// `/v2.0/admin/webhook-subscriptions`, every method.
async fn resource(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    shared.counters.count(&parts.method);
    // Read (or drain) the body first, so every answer below reaches a client
    // that is still sending.
    let body = read_body(body, &parts.headers).await;
    let op = match parts.method {
        Method::GET => Op::List,
        Method::POST => Op::Create,
        Method::PUT => Op::Update,
        Method::DELETE => Op::Delete,
        ref other => {
            return Reply::bad_request(format!(
                "method `{}` is not allowed on `{RESOURCE}`; use GET, POST, PUT or DELETE",
                quote(other.as_str())
            ))
            .into_response();
        }
    };
    let Some(merchant) = authenticate(&shared, &parts.headers) else {
        return Reply::bad_request("invalid API key").into_response();
    };
    let request = match body.and_then(|bytes| Input::parse(op, &bytes)) {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    // Fault injection decides the request's fate here: before the write
    // (no change happens) and after it (the change stands, whatever the
    // client is told).
    match shared.faults.before_write(op) {
        Fate::Proceed => {}
    }
    let reply = execute(&shared, &merchant, request);
    match shared.faults.after_write(op, reply.status) {
        Fate::Proceed => reply.into_response(),
    }
}

/// The merchant label for the request's key, if the key is known.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let key = headers.get(API_KEY_HEADER)?.to_str().ok()?;
    if key.is_empty() {
        return None;
    }
    shared.store().merchant(key)
}

/// Applies a valid request to the store, persisting successful writes.
/// Synchronous: the store's lock is never held across an `.await`.
fn execute(shared: &Shared, merchant: &str, input: Input) -> Reply {
    let mut store = shared.store();
    let (status, message, record) = match input {
        Input::List => {
            let subs: Vec<Value> = store.list(merchant).map(|r| r.to_json(merchant)).collect();
            let data = json!({ "subscriptions": subs });
            return Reply::ok(StatusCode::OK, "webhook subscriptions retrieved", data);
        }
        Input::Create {
            topic,
            name,
            callback_url,
        } => {
            let record = store.create(merchant, &topic, &name, &callback_url);
            (StatusCode::CREATED, "webhook subscription created", record)
        }
        Input::Update {
            topic,
            id,
            name,
            callback_url,
        } => match store.update(merchant, &id, &topic, name.as_deref(), callback_url.as_deref()) {
            Some(record) => (StatusCode::OK, "webhook subscription updated", record),
            None => return not_found_reply(&id, &topic),
        },
        Input::Delete { topic, id } => match store.delete(merchant, &id, &topic) {
            Some(record) => (StatusCode::OK, "webhook subscription deleted", record),
            None => return not_found_reply(&id, &topic),
        },
    };
    if let Err(err) = store.save() {
        return Reply::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{err:#}"));
    }
    Reply::ok(status, message, record.to_json(merchant))
}

fn not_found_reply(id: &str, topic: &str) -> Reply {
    Reply::bad_request(format!(
        "no subscription with id `{}` and topic `{}`; NO action was taken",
        quote(id),
        quote(topic)
    ))
}

/// `/_sandbox/stats`: the request counters.
async fn stats(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = read_body(body, &parts.headers).await;
    if parts.method != Method::GET {
        return Reply::bad_request(format!(
            "method `{}` is not allowed on `{STATS}`; use GET",
            quote(parts.method.as_str())
        ))
        .into_response();
    }
    Json(json!({ "requests": shared.counters.snapshot() })).into_response()
}

/// Any other path.
async fn not_found(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let _ = read_body(body, &parts.headers).await;
    Reply::error(
        StatusCode::NOT_FOUND,
        format!(
            "no route for `{}`; the sandbox serves `{RESOURCE}`",
            quote(parts.uri.path())
        ),
    )
    .into_response()
}
