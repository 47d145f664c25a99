//! What a client sees of an injected fault: a response, or a connection
//! closed without one; and the requests the fault tests send, over HTTP
//! ([`request`]) or in-process ([`handled`]).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::*;
use crate::sandbox::Faults;

pub(super) const TOPIC: &str = "customer.updated";

pub(super) async fn start_with(faults: Faults) -> Sandbox {
    let config = SandboxConfig {
        faults,
        ..config(&[KEY])
    };
    Sandbox::start(ANY_PORT.parse().unwrap(), config).await.unwrap()
}

/// A client whose timeout is far beyond any test's duration: a request
/// that times out means the sandbox hung instead of answering or closing.
pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// What a client saw: a response, or a connection closed without one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    Answer {
        status: u16,
        retry_after: Option<String>,
        body: Value,
    },
    Dropped,
}

impl Outcome {
    pub(super) fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answer { status, .. } => Some(*status),
            Outcome::Dropped => None,
        }
    }

    pub(super) fn body(&self) -> &Value {
        match self {
            Outcome::Answer { body, .. } => body,
            Outcome::Dropped => panic!("the connection was dropped"),
        }
    }
}

pub(super) async fn request(
    client: &reqwest::Client,
    sandbox: &Sandbox,
    method: Method,
    body: Option<Value>,
) -> Outcome {
    let url = format!("{}/admin/webhook-subscriptions", sandbox.base_url());
    let mut builder = client.request(method, url).header("X-Inveterate-Api-Key", KEY);
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    match builder.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let text = response.text().await.unwrap();
            let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
            Outcome::Answer {
                status,
                retry_after,
                body,
            }
        }
        Err(err) => {
            assert!(!err.is_timeout(), "the sandbox hung instead of closing: {err:?}");
            assert!(closed_without_response(&err), "not a dropped connection: {err:?}");
            Outcome::Dropped
        }
    }
}

/// What `server::handle` answers to the request, called directly: no
/// socket, so on tokio's paused clock time moves only when a test says.
pub(super) async fn handled(sandbox: &Sandbox, method: Method, body: Option<Value>) -> Outcome {
    use http_body_util::{BodyExt, Full};
    let body = body.map_or_else(String::new, |body| body.to_string());
    let request = hyper::Request::builder()
        .method(method)
        .uri(crate::sandbox::wire::RESOURCE)
        .header("X-Inveterate-Api-Key", KEY)
        .body(Full::new(hyper::body::Bytes::from(body)))
        .unwrap();
    let Ok(response) = crate::sandbox::server::handle(&sandbox.state, request).await else {
        return Outcome::Dropped;
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Outcome::Answer {
        status,
        retry_after,
        body: serde_json::from_slice(&bytes).unwrap(),
    }
}

/// Whether `err` says the server closed the connection before answering.
fn closed_without_response(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
        {
            return true;
        }
        source = current.source();
    }
    false
}

pub(super) fn create(name: &str) -> Value {
    json!({"topic": TOPIC, "callbackUrl": "https://a.example/hook", "name": name})
}

pub(super) fn injected_error() -> Value {
    json!({"message": "internal error (injected)", "data": {}})
}
