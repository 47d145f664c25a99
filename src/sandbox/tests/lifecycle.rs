//! The state file, and the server started on its own thread.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::SocketAddr;

use reqwest::Method;
use serde_json::{json, Value};

use super::*;
use crate::sandbox::wire::merchant_id;

#[tokio::test]
async fn state_file_is_persisted_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let with_state = || SandboxConfig {
        state_file: Some(path.clone()),
        ..config(&[KEY, OTHER])
    };
    let sandbox = Sandbox::start(ANY_PORT.parse().unwrap(), with_state())
        .await
        .unwrap();
    assert!(path.exists(), "an empty state is written at start");
    for name in ["a", "b"] {
        let body = json!({"topic": "customer.updated", "callbackUrl": "https://a.example", "name": name});
        assert_eq!(call(&sandbox, Method::POST, body).await.status, 201);
    }
    call(
        &sandbox,
        Method::DELETE,
        json!({"topic": "customer.updated", "id": "wh_000001"}),
    )
    .await;
    let written = std::fs::read_to_string(&path).unwrap();
    sandbox.shutdown().await.unwrap();
    let expected = r#"{
  "version": 2,
  "nextId": 3,
  "clock": 3,
  "merchants": {
    "m_6defbf1387daa62e": [
      {
        "id": "wh_000002",
        "topic": "customer.updated",
        "name": "b",
        "callbackUrl": "https://a.example",
        "createdAt": "2024-01-01T00:00:02Z",
        "updatedAt": "2024-01-01T00:00:02Z"
      }
    ]
  }
}
"#;
    assert_eq!(written, expected);
    assert!(!written.contains(KEY));

    let again = Sandbox::start(ANY_PORT.parse().unwrap(), with_state())
        .await
        .unwrap();
    let live = again.subscriptions(KEY);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].name, "b");
    let next = call(
        &again,
        Method::POST,
        json!({"topic": "customer.ordered", "callbackUrl": "https://b", "name": "c"}),
    )
    .await;
    assert_eq!(next.body["data"]["id"], "wh_000003");
    assert_eq!(next.body["data"]["createdAt"], "2024-01-01T00:00:04Z");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "no temporary file is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_each_on_disk_before_they_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = SandboxConfig {
        state_file: Some(path.clone()),
        ..config(&[KEY])
    };
    let sandbox = std::sync::Arc::new(Sandbox::start(ANY_PORT.parse().unwrap(), config).await.unwrap());
    let writers = (0..24).map(|i| {
        let (sandbox, path) = (std::sync::Arc::clone(&sandbox), path.clone());
        tokio::spawn(async move {
            let body = json!({"topic": "customer.updated", "callbackUrl": "https://a.example", "name": format!("n{i}")});
            let answer = call(&sandbox, Method::POST, body).await;
            assert_eq!(answer.status, 201);
            let id = answer.body["data"]["id"].as_str().unwrap().to_owned();
            let written = std::fs::read_to_string(&path).unwrap();
            assert!(written.contains(&format!("\"{id}\"")), "{id} is written before its 201");
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        written["merchants"][merchant_id(KEY)].as_array().unwrap().len(),
        24
    );
    assert_eq!(written["clock"], 24);
}

#[tokio::test]
async fn corrupt_state_file_fails_at_start_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "{not json",
        r#"{"version": 3, "nextId": 1, "clock": 0, "merchants": {}}"#,
    ] {
        let path = dir.path().join("state.json");
        std::fs::write(&path, text).unwrap();
        let shown = refused_with_state(&path).await;
        assert!(shown.contains(&path.display().to_string()), "{shown}");
    }
    let missing_dir = dir.path().join("no-such-dir").join("state.json");
    let shown = refused_with_state(&missing_dir).await;
    assert!(shown.contains(&missing_dir.display().to_string()), "{shown}");
}

#[test]
fn a_sandbox_on_a_runtime_of_its_own_serves_synchronous_clients() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(Sandbox::start(ANY_PORT.parse().unwrap(), config(&[KEY])))
        .unwrap();
    sandbox.seed(KEY, &[("customer.updated", "crm", "https://a")]);
    let request = format!(
        "GET /v2.0/admin/webhook-subscriptions HTTP/1.1\r\nHost: x\r\nX-Inveterate-Api-Key: {KEY}\r\nConnection: close\r\n\r\n"
    );
    let response = raw(sandbox.addr(), &request);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("wh_000001"), "{response}");
    assert_eq!(sandbox.counters().stats().get, 1);
    let addr = sandbox.addr();
    drop(sandbox);
    drop(runtime); // stops it
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped after shutdown"
    );
}

fn raw(addr: SocketAddr, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
