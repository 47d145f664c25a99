//! Sandbox deliveries and `invhooks trigger` (README "Test your receiver
//! in CI"): the real binary triggers, the sandbox POSTs to receivers that
//! are [`Stub`]s, retries what fails, and logs every attempt.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use invhooks::sandbox::{DeliveryConfig, SandboxConfig};
use serde_json::Value;

use crate::netkit::{json, Proxy, Stub};
use crate::support::{manifest, World, KEY, KEY_B};

const TOPIC: &str = "customer.cancelled";

/// A world whose sandbox retries fast: 4 attempts, 20 ms backoff doubling.
fn fast_world() -> World {
    let config = SandboxConfig {
        api_keys: vec![KEY.into(), KEY_B.into()],
        deliveries: DeliveryConfig {
            attempts: 4,
            backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(2),
        },
        ..SandboxConfig::default()
    };
    World::serving(config)
}

/// A receiver answering `status` to everything.
fn receiver(status: &'static str) -> Stub {
    Stub::start(move |_| json(status, "{}"))
}

fn hook(stub: &Stub, path: &str) -> String {
    format!("http://{}{path}", stub.addr())
}

/// `GET /_sandbox/deliveries` once every delivery is done (10 s at most).
fn settled_log(world: &World) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = get_json(world.sandbox.addr(), "/_sandbox/deliveries");
        if log["pending"] == 0 || Instant::now() > deadline {
            assert_eq!(log["pending"], 0, "deliveries still pending: {log}");
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    body
}

/// Sends one raw request; the status line and the JSON body.
fn exchange(addr: SocketAddr, request: &str) -> (String, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (
        head.lines().next().unwrap().to_owned(),
        serde_json::from_str(body).unwrap(),
    )
}

fn bodies(stub: &Stub) -> Vec<Value> {
    stub.requests()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The log's attempts as (retryCount, status, delivered).
fn attempts(log: &Value) -> Vec<(u64, Option<u64>, bool)> {
    log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let delivered = a["delivered"].as_bool().unwrap();
            (a["retryCount"].as_u64().unwrap(), a["status"].as_u64(), delivered)
        })
        .collect()
}

#[test]
fn trigger_delivers_the_documented_shape_to_each_subscription_of_the_topic() {
    let world = fast_world();
    let (one, two) = (receiver("200 OK"), receiver("204 No Content"));
    world.sandbox.seed(
        KEY,
        &[
            (TOPIC, "crm", &hook(&one, "/cancel")),
            (TOPIC, "billing", &hook(&two, "/hooks?x=1")),
            ("customer.updated", "crm", &hook(&one, "/updated")),
        ],
    );
    world
        .sandbox
        .seed(KEY_B, &[(TOPIC, "other-store", &hook(&one, "/b"))]);

    let run = world.run(&["trigger", TOPIC]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("event `evt_000001`"), "{run}");
    assert!(run.stdout.contains("sent to 2 subscription(s)"), "{run}");
    let log = settled_log(&world);

    assert_eq!(one.requests().len(), 1, "only the key's merchant, only the topic");
    assert_eq!(one.requests()[0].path(), "/cancel");
    assert_eq!(two.requests()[0].path(), "/hooks?x=1");
    for request in one.requests().iter().chain(&two.requests()) {
        assert_eq!(request.method(), "POST");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("x-inveterate-api-key"), None);
        let text = format!("{}{}", request.head, String::from_utf8_lossy(&request.body));
        assert!(
            !text.contains(KEY) && !text.contains(KEY_B),
            "a key reached a receiver: {text}"
        );
    }
    let (a, b) = (&bodies(&one)[0], &bodies(&two)[0]);
    let mut keys: Vec<&str> = a["metadata"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "id",
            "retryCount",
            "shopDomain",
            "topic",
            "triggerredAt",
            "version"
        ]
    );
    let meta = &a["metadata"];
    assert_eq!(meta["id"], "evt_000001");
    assert_eq!(meta["retryCount"], 0);
    assert_eq!(meta["topic"], TOPIC);
    assert_eq!(meta["version"], "2025-06");
    assert!(meta["shopDomain"].as_str().unwrap().ends_with(".myshopify.com"));
    assert!(meta["triggerredAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        a["metadata"], b["metadata"],
        "one event, the same metadata for every subscription"
    );
    let payload = &a["payload"];
    assert!(
        payload["merchantId"].as_str().unwrap().starts_with("m_"),
        "{payload}"
    );
    assert_eq!(payload["createdAt"], meta["triggerredAt"]);
    assert_eq!(payload["detail"]["tierId"], "tier_sample_gold");
    assert!(payload["customerId"].is_string() && payload["updatedAt"].is_string());
    let mut logged = attempts(&log);
    logged.sort_unstable();
    assert_eq!(logged, [(0, Some(200), true), (0, Some(204), true)]);
}

#[test]
fn a_failed_delivery_is_retried_with_the_same_id_and_a_growing_retry_count() {
    let world = fast_world();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let flaky = Stub::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => json("500 Internal Server Error", "{}"),
        _ => json("200 OK", "{}"),
    });
    world.sandbox.seed(KEY, &[(TOPIC, "crm", &hook(&flaky, "/in"))]);

    let run = world.run(&["trigger", TOPIC]);
    assert_eq!(run.code, 0, "{run}");
    let log = settled_log(&world);

    let got = bodies(&flaky);
    assert_eq!(got.len(), 2, "one failure, one retry");
    assert_eq!(got[0]["metadata"]["id"], got[1]["metadata"]["id"]);
    assert_eq!(got[0]["metadata"]["retryCount"], 0);
    assert_eq!(got[1]["metadata"]["retryCount"], 1);
    assert_eq!(got[0]["payload"], got[1]["payload"]);
    assert_eq!(attempts(&log), [(0, Some(500), false), (1, Some(200), true)]);
    let entry = &log["deliveries"][1];
    assert_eq!(entry["id"], got[0]["metadata"]["id"]);
    assert_eq!(entry["attempt"], 2);
    assert_eq!(entry["subscriptionId"], world.sandbox.subscriptions(KEY)[0].id);
    assert_eq!(entry["callbackUrl"], hook(&flaky, "/in"));
}

#[test]
fn a_receiver_that_never_answers_2xx_is_tried_a_bounded_number_of_times() {
    let world = fast_world();
    let down = receiver("503 Service Unavailable");
    // Nothing listens there: no answer at all.
    let refusing = crate::netkit::Refusing::new();
    let closed = format!("127.0.0.1:{}", refusing.port());
    world.sandbox.seed(
        KEY,
        &[
            (TOPIC, "down", &hook(&down, "/")),
            (TOPIC, "gone", &format!("http://{closed}/")),
        ],
    );

    let run = world.run(&["trigger", TOPIC]);
    assert_eq!(run.code, 0, "{run}");
    // Nothing is pending: every target had its last attempt.
    let log = settled_log(&world);

    let counts: Vec<u64> = bodies(&down)
        .iter()
        .map(|b| b["metadata"]["retryCount"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1, 2, 3], "4 attempts in all, then no more");
    let all = log["deliveries"].as_array().unwrap();
    assert_eq!(all.len(), 8, "{log}");
    assert!(all.iter().all(|a| a["delivered"] == false), "{log}");
    let unanswered: Vec<&Value> = all.iter().filter(|a| a["status"].is_null()).collect();
    assert_eq!(unanswered.len(), 4, "{log}");
    assert!(
        unanswered.iter().all(|a| a["error"] == "TCP: connection refused"),
        "{log}"
    );
}

#[test]
fn trigger_is_refused_against_inveterates_api_before_any_request() {
    let world = fast_world();
    let proxy = Proxy::start(world.sandbox.addr());
    for base in [
        "https://public.inveterateapi.com/v2.0",
        "https://staging.inveterateapi.com/v2.0",
    ] {
        let run = world.run_env(
            &["trigger", TOPIC, "--base-url", base],
            &[("HTTPS_PROXY", &proxy.url()), ("HTTP_PROXY", &proxy.url())],
        );
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stderr.contains("`trigger` talks to the sandbox only"),
            "{run}"
        );
        assert!(run.stderr.contains("invhooks sandbox"), "{run}");
    }
    assert!(proxy.requests().is_empty(), "a request left before the refusal");
}

#[test]
fn apply_then_trigger_with_the_manifests_keys_reaches_the_receiver() {
    let world = fast_world();
    let hooks = receiver("200 OK");
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: acme\nsubscriptions:\n  - name: crm\n    topic: {TOPIC}\n    callbackUrl: {}\n",
            hook(&hooks, "/inveterate")
        )),
    );
    let apply = world.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");

    let run = world.run(&["trigger", TOPIC, "--merchant", "acme", "-f", "webhooks.yaml"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.starts_with("merchant `acme`: event `evt_000001`"),
        "{run}"
    );
    settled_log(&world);
    assert_eq!(bodies(&hooks)[0]["metadata"]["topic"], TOPIC);

    let none = world.run(&["trigger", "customer.updated"]);
    assert_eq!(none.code, 1, "{none}");
    assert!(
        none.stderr
            .contains("no subscription of topic `customer.updated`"),
        "{none}"
    );
    let typo = world.run(&["trigger", "customer.canceled"]);
    assert_eq!(typo.code, 1, "{typo}");
    assert!(
        typo.stderr.contains("did you mean `customer.cancelled`"),
        "{typo}"
    );
}

/// A POST to the sandbox, with `key` if given.
fn raw_post(addr: SocketAddr, path: &str, key: Option<&str>, body: &str) -> (String, Value) {
    let key = key.map_or_else(String::new, |k| format!("X-Inveterate-Api-Key: {k}\r\n"));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{key}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, &request)
}

#[test]
fn a_given_payload_is_delivered_as_is_and_one_holding_a_key_is_refused() {
    let world = fast_world();
    let hooks = receiver("200 OK");
    world
        .sandbox
        .seed(KEY, &[("customer.ordered", "orders", &hook(&hooks, "/o"))]);
    let addr = world.sandbox.addr();
    let body = r#"{"topic": "customer.ordered", "payload": {"orderId": "42"}}"#;

    let (status, reply) = raw_post(addr, "/_sandbox/trigger", None, body);
    assert!(status.contains(" 400 "), "{status} {reply}");
    let leak = format!(r#"{{"topic": "customer.ordered", "payload": {{"note": "{KEY_B}"}}}}"#);
    let (status, reply) = raw_post(addr, "/_sandbox/trigger", Some(KEY), &leak);
    assert!(status.contains(" 400 "), "{status} {reply}");
    assert!(!reply.to_string().contains(KEY_B), "{reply}");
    let (status, reply) = raw_post(
        addr,
        "/_sandbox/trigger",
        Some(KEY),
        r#"{"topic": "customer.ordered", "extra": 1}"#,
    );
    assert!(
        status.contains(" 400 ")
            && reply["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `extra`"),
        "{reply}"
    );
    assert!(hooks.requests().is_empty(), "nothing refused was delivered");

    let (status, reply) = raw_post(addr, "/_sandbox/trigger", Some(KEY), body);
    assert!(status.contains(" 202 "), "{status} {reply}");
    assert_eq!(
        reply["data"]["subscriptions"].as_array().unwrap().len(),
        1,
        "{reply}"
    );
    settled_log(&world);
    let got = bodies(&hooks);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["payload"], serde_json::json!({ "orderId": "42" }));
    assert_eq!(got[0]["metadata"]["id"], reply["data"]["id"]);
}
