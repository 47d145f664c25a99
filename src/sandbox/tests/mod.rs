//! The sandbox over real HTTP: status codes, envelopes, validation,
//! counters and the state file. Shared helpers here; one file per theme.

#![allow(clippy::unwrap_used)]

mod api;
pub(crate) mod config;
mod faults;
mod keys;
mod lifecycle;
mod outcome;
mod timing;
mod validation;

use reqwest::Method;
use serde_json::{json, Value};

use super::{Sandbox, SandboxConfig};

const KEY: &str = "sk_test_secret_one";
const OTHER: &str = "sk_test_secret_two";
const ANY_PORT: &str = "127.0.0.1:0";

fn config(keys: &[&str]) -> SandboxConfig {
    SandboxConfig {
        api_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        // These tests name ids; random ones are `state`'s test.
        ids: super::Ids::Sequential,
        ..SandboxConfig::default()
    }
}

/// The error, shown as a chain, of a sandbox started with the state file
/// `path`; panics if it starts.
async fn refused_with_state(path: &std::path::Path) -> String {
    let config = SandboxConfig {
        state_file: Some(path.to_path_buf()),
        ..config(&[KEY])
    };
    let err = Sandbox::start(ANY_PORT.parse().unwrap(), config)
        .await
        .unwrap_err();
    format!("{err:#}")
}

async fn start(keys: &[&str]) -> Sandbox {
    Sandbox::start(ANY_PORT.parse().unwrap(), config(keys))
        .await
        .unwrap()
}

/// A response: status, parsed JSON body, content type.
struct Answer {
    status: u16,
    body: Value,
    content_type: String,
}

async fn send(sandbox: &Sandbox, method: Method, key: Option<&str>, body: Option<Vec<u8>>) -> Answer {
    let url = format!("{}/admin/webhook-subscriptions", sandbox.base_url());
    send_to(&url, method, key, body).await
}

/// Sends to `path` under the server's root.
async fn send_path(sandbox: &Sandbox, method: Method, path: &str) -> Answer {
    send_to(
        &format!("http://{}{path}", sandbox.addr()),
        method,
        Some(KEY),
        None,
    )
    .await
}

async fn send_to(url: &str, method: Method, key: Option<&str>, body: Option<Vec<u8>>) -> Answer {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(key) = key {
        request = request.header("X-Inveterate-Api-Key", key);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Answer {
        status,
        body,
        content_type,
    }
}

async fn call(sandbox: &Sandbox, method: Method, body: Value) -> Answer {
    send(sandbox, method, Some(KEY), Some(body.to_string().into_bytes())).await
}

async fn list(sandbox: &Sandbox, key: &str) -> Vec<Value> {
    let answer = send(sandbox, Method::GET, Some(key), None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["data"]["subscriptions"].as_array().unwrap().clone()
}

/// Asserts a 400 error envelope whose message contains every `needle`.
fn assert_error(answer: &Answer, status: u16, needles: &[&str]) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(answer.body["data"], json!({}), "{}", answer.body);
    let message = answer.body["message"].as_str().unwrap();
    for needle in needles {
        assert!(message.contains(needle), "`{needle}` not in `{message}`");
    }
    assert!(!message.contains(KEY));
}
