//! Merchants by key, not by key order; and no key in any reply or in the
//! state file, whatever a client puts in a request.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use super::*;

const NEW: &str = "sk_test_secret_new";

async fn start_with_state(keys: &[&str], path: &Path) -> Sandbox {
    let config = SandboxConfig {
        state_file: Some(path.to_path_buf()),
        ..config(keys)
    };
    Sandbox::start(ANY_PORT.parse().unwrap(), config).await.unwrap()
}

async fn post_as(sandbox: &Sandbox, key: &str, body: Value) -> Answer {
    send(
        sandbox,
        Method::POST,
        Some(key),
        Some(body.to_string().into_bytes()),
    )
    .await
}

fn names(subs: &[Value]) -> Vec<&str> {
    subs.iter().map(|s| s["name"].as_str().unwrap()).collect()
}

/// Asserts that `text` holds no configured key, nor any 8-character piece
/// of one.
fn assert_no_key(text: &str, what: &str) {
    for key in [KEY, OTHER, NEW] {
        for piece in key.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!text.contains(piece), "{what} holds `{piece}` of a key: {text}");
        }
    }
}

#[tokio::test]
async fn restarting_with_keys_reordered_or_added_keeps_each_merchant_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = start_with_state(&[KEY, OTHER], &path).await;
    let sub =
        |name: &str| json!({"topic": "customer.updated", "callbackUrl": "https://a.example", "name": name});
    assert_eq!(post_as(&first, KEY, sub("first's")).await.status, 201);
    assert_eq!(post_as(&first, OTHER, sub("other's")).await.status, 201);
    first.shutdown().await.unwrap();

    // A new key first, then the two in the other order.
    let again = start_with_state(&[NEW, OTHER, KEY], &path).await;
    assert_eq!(names(&list(&again, KEY).await), ["first's"]);
    assert_eq!(names(&list(&again, OTHER).await), ["other's"]);
    assert!(list(&again, NEW).await.is_empty());
    again.shutdown().await.unwrap();
    assert_no_key(&std::fs::read_to_string(&path).unwrap(), "the state file");
}

#[tokio::test]
async fn a_format_1_state_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let old = r#"{"version": 1, "nextId": 1, "clock": 0, "merchants": {"merchant-1": []}}"#;
    std::fs::write(&path, old).unwrap();
    let shown = refused_with_state(&path).await;
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(shown.contains("format 1"), "{shown}");
    assert!(shown.contains("delete the file"), "{shown}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old, "left as it was");
}

#[tokio::test]
async fn no_reply_and_no_state_file_holds_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sandbox = start_with_state(&[KEY, OTHER], &path).await;
    let topic = "customer.updated";
    let url = "https://a.example/hook";
    // Long enough that a quote is cut inside the key, were it not scrubbed first.
    let long = format!("{}{OTHER}", "a".repeat(95));
    let refused = [
        (
            Method::POST,
            json!({"topic": topic, "callbackUrl": format!("{url}?k={KEY}"), "name": "crm"}),
        ),
        (
            Method::POST,
            json!({"topic": topic, "callbackUrl": url, "name": format!("crm-{KEY}")}),
        ),
        (
            Method::POST,
            json!({"topic": topic, "callbackUrl": url, "name": long}),
        ),
        (
            Method::POST,
            json!({"topic": format!("x.{KEY}"), "callbackUrl": url, "name": "crm"}),
        ),
        (
            Method::POST,
            json!({"topic": long, "callbackUrl": url, "name": "crm"}),
        ),
        (
            Method::POST,
            json!({"topic": topic, "callbackUrl": url, "name": "crm", KEY: 1}),
        ),
        (Method::PUT, json!({"topic": topic, "id": KEY, "name": "crm"})),
        (Method::DELETE, json!({"topic": OTHER, "id": "wh_000001"})),
    ];
    for (method, body) in refused {
        let answer = send(
            &sandbox,
            method.clone(),
            Some(KEY),
            Some(body.to_string().into_bytes()),
        )
        .await;
        assert_eq!(answer.status, 400, "{method} {body}: {}", answer.body);
        assert_no_key(&answer.body.to_string(), "a reply");
    }
    sandbox.shutdown().await.unwrap();
    assert_no_key(&std::fs::read_to_string(&path).unwrap(), "the state file");
}

#[tokio::test]
async fn paths_lists_and_stats_hold_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sandbox = start_with_state(&[KEY, OTHER], &path).await;
    let (topic, url) = ("customer.updated", "https://a.example/hook");
    let in_path = send_to(
        &format!("http://{}/v2.0/{KEY}/{OTHER}", sandbox.addr()),
        Method::GET,
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(in_path.status, 404);
    assert_no_key(&in_path.body.to_string(), "a 404");
    let created = call(
        &sandbox,
        Method::POST,
        json!({"topic": topic, "callbackUrl": url, "name": "crm"}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_no_key(&created.body.to_string(), "a 201");
    assert_no_key(&list(&sandbox, KEY).await[0].to_string(), "a list");
    let stats = send_path(&sandbox, Method::GET, "/_sandbox/stats").await;
    assert_no_key(&stats.body.to_string(), "the stats");
    assert_eq!(
        sandbox.subscriptions(KEY).len(),
        1,
        "only the clean create was stored"
    );
    sandbox.shutdown().await.unwrap();
    assert_no_key(&std::fs::read_to_string(&path).unwrap(), "the state file");
}
