//! `doctor`'s conformance suite: the real binary against the sandbox in
//! each of its modes and against stub servers that disagree with it (a
//! refused key, HTML from a proxy, pages, other list shapes, another
//! answer for an id already gone, a failing write). Each gives the verdict
//! a user needs; `--write` never touches another subscription and, even
//! when a step fails or a SIGTERM arrives, leaves nothing behind.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use invhooks::sandbox::Faults;
use serde_json::{json, Value};

use crate::netkit::{self, Recorded, Reply, Stub};
use crate::support::*;

const WRITE: [&str; 5] = [
    "--write",
    "--topic",
    "customer.updated",
    "--callback-url",
    "https://hooks.example/doctor",
];

/// `snapshot!` with what differs between runs of doctor filtered too:
/// latencies, the throwaway's random name, sandbox ids.
macro_rules! doctor_snapshot {
    ($world:expr, $name:expr, $run:expr) => {{
        let mut filters = $world.filters();
        filters.push((r"\b\d+ ms\b".to_owned(), "[N] ms".to_owned()));
        filters.push((r"invhooks-doctor-[0-9a-f]{12}".to_owned(), "invhooks-doctor-[random]".to_owned()));
        filters.push((r"\bwh_[0-9A-Za-z]+".to_owned(), "wh_[id]".to_owned()));
        insta::with_settings!({filters => filters.iter().map(|(r, s)| (r.as_str(), s.as_str()))}, {
            insta::assert_snapshot!($name, $run.to_string());
        })
    }};
}

/// The checks of a JSON report's first merchant, as (name, status).
fn statuses(run: &Run) -> Vec<(String, String)> {
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{run}"));
    report["merchants"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status_of(run: &Run, name: &str) -> String {
    statuses(run)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no `{name}` check:\n{run}"))
        .1
}

/// `doctor ARGS --write …`.
fn write(args: &[&'static str]) -> Vec<&'static str> {
    [&["doctor"], args, &WRITE[..]].concat()
}

fn others(world: &World) -> Vec<invhooks::model::LiveSubscription> {
    world.seed(&[
        ("customer.updated", "crm", "https://crm.example/in?token=s3cr3t"),
        (
            "customer.cancelled",
            "invhooks-doctor-other",
            "https://erp.example/in",
        ),
    ])
}

#[test]
fn a_healthy_sandbox_passes_every_check_and_write_touches_nothing_else() {
    let world = World::new();
    let before = others(&world);
    world.sandbox.counters().reset();
    let run = world.run(&["doctor"]);
    assert_eq!(run.code, 0, "{run}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.get, stats.total), (1, 1), "read-only: one GET, no write");
    doctor_snapshot!(world, "doctor_read_only", run);
    let run = world.run(&write(&[]));
    assert_eq!(run.code, 0, "{run}");
    doctor_snapshot!(world, "doctor_write", run);
    assert_eq!(
        world.sandbox.subscriptions(KEY),
        before,
        "the others are untouched"
    );
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put), (1, 1), "one create, one rename");
    assert!(!run.stdout.contains("s3cr3t"), "{run}");
}

#[test]
fn the_json_report_has_the_documented_keys() {
    let world = World::new();
    others(&world);
    let run = world.run(&write(&["--format", "json"]));
    assert_eq!(run.code, 0, "{run}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["format_version"], "1");
    let merchant = &report["merchants"][0];
    assert_eq!(merchant["merchant"], "INVETERATE_API_KEY");
    for check in merchant["checks"].as_array().unwrap() {
        let keys: Vec<&str> = check.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["detail", "help", "name", "status"], "{check}");
    }
    let m = &merchant["measured"];
    assert_eq!(
        (m["get_status"].as_u64(), m["subscriptions"].as_u64()),
        (Some(200), Some(2))
    );
    assert_eq!(m["list_at"], "data.subscriptions");
    assert_eq!(m["id_types"], json!(["string"]));
    assert_eq!(
        (m["gone_status"].as_u64(), m["suggested_wait"].as_u64()),
        (Some(400), Some(5))
    );
}

#[test]
fn a_visibility_delay_is_measured_and_a_wait_suggested() {
    let world = World::with_faults(Faults {
        visibility_delay: Duration::from_millis(600),
        ..Faults::default()
    });
    let run = world.run(&write(&["--format", "json"]));
    assert_eq!(run.code, 0, "{run}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let m = &report["merchants"][0]["measured"];
    let ms = m["visible_after_ms"].as_u64().unwrap();
    assert!((600..5000).contains(&ms), "{run}");
    assert_eq!(
        m["suggested_wait"].as_u64(),
        Some((ms * 2).div_ceil(1000) + 5),
        "{run}"
    );
    assert!(world.sandbox.subscriptions(KEY).is_empty());
}

#[test]
fn a_rate_limited_sandbox_is_reported_and_the_round_trip_still_completes() {
    // A burst of 3 and 3 a second: the round trip's ten or so requests
    // meet the limit unless they take more than 2 s before any wait.
    let world = World::with_faults(Faults {
        rate_limit: Some(3.0),
        ..Faults::default()
    });
    let run = world.run(&write(&[]));
    assert_eq!(run.code, 0, "{run}");
    assert!(
        world.sandbox.counters().stats().injected.rate_limited > 0,
        "the limit was hit:\n{run}"
    );
    assert!(world.sandbox.subscriptions(KEY).is_empty());
    // A key with no requests left: the first GET is refused at once.
    let slow = World::with_faults(Faults {
        rate_limit: Some(0.1),
        ..Faults::default()
    });
    assert_eq!(slow.run(&["doctor"]).code, 0);
    let run = slow.run(&["doctor", "--format", "json"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains("rate-limited at the first request (429 Too Many Requests"),
        "{run}"
    );
    assert!(run.stdout.contains("`retry-after: "), "{run}");
}

#[test]
fn sandbox_faults_give_their_verdicts() {
    let failing = World::with_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let run = failing.run(&["doctor", "--format", "json"]);
    assert_eq!(
        (run.code, status_of(&run, "get")),
        (1, "fail".to_owned()),
        "{run}"
    );
    assert!(
        run.stdout.contains("the API did not answer the list (500"),
        "{run}"
    );
    let lying = World::with_faults(Faults {
        lying_list_rate: 1.0,
        ..Faults::default()
    });
    lying.seed(&[
        ("customer.updated", "a", "https://a.example/"),
        ("customer.updated", "b", "https://b.example/"),
    ]);
    let run = lying.run(&["doctor", "--format", "json"]);
    assert_eq!(run.code, 1, "{run}");
    let injected = lying.sandbox.counters().stats().injected;
    let (check, told) = match injected.cut_pages {
        1 => ("pagination", "and invhooks does not page"),
        _ => ("duplicates", "more than once"),
    };
    assert_eq!(injected.cut_pages + injected.repeated_ids, 1);
    assert_eq!(status_of(&run, check), "fail", "{run}");
    assert!(run.stdout.contains(told), "{run}");
}

#[test]
fn a_sigterm_during_write_leaves_nothing_behind() {
    let world = World::with_faults(Faults {
        visibility_delay: Duration::from_secs(60),
        ..Faults::default()
    });
    let before = others(&world);
    let running = Running::start(&world, &write(&[]));
    let deadline = Instant::now() + RUN_TIMEOUT;
    while world.sandbox.subscriptions(KEY).len() == before.len() {
        assert!(Instant::now() < deadline, "the throwaway was never created");
        std::thread::sleep(Duration::from_millis(10));
    }
    running.signal("TERM");
    let run = running.finish("doctor --write under SIGTERM");
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("fail  interrupted"), "{run}");
    assert!(
        run.stdout.contains("ok    cleanup       nothing left behind"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("interrupted: deleting the throwaway subscription"),
        "{run}"
    );
    assert_eq!(
        world.sandbox.subscriptions(KEY),
        before,
        "nothing left, nothing else touched"
    );
}

#[test]
fn without_a_key_or_with_a_manifest_each_merchant_is_checked() {
    let world = World::new();
    let run = run(world.command(&["doctor"]).env_remove("INVETERATE_API_KEY"));
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains(
            "fail  key           environment variable `INVETERATE_API_KEY` is not set or empty (doctor)"
        ),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("help: export INVETERATE_API_KEY=<private API key"),
        "{run}"
    );
    world.write("a.yaml", &manifest("merchant: store-a\nsubscriptions: []\n"));
    world.write(
        "b.yaml",
        &manifest("merchant: store-b\napiKeyEnv: KEY_B\nsubscriptions: []\n"),
    );
    let run = world.run_env(
        &["doctor", "-f", "a.yaml", "-f", "b.yaml", "--merchant", "store-*"],
        &[("KEY_B", KEY_B)],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("merchant `store-a`") && run.stdout.contains("merchant `store-b`"),
        "{run}"
    );
    assert!(run.stdout.contains("`KEY_B` is set"), "{run}");
}

#[test]
fn write_arguments_are_checked_before_any_request() {
    let world = World::new();
    world.sandbox.counters().reset();
    for (args, says) in [
        (
            vec![
                "doctor",
                "--write",
                "--topic",
                "customer.update",
                "--callback-url",
                "https://h.example/",
            ],
            "unknown topic `customer.update`",
        ),
        (
            vec![
                "doctor",
                "--write",
                "--topic",
                "customer.updated",
                "--callback-url",
                "https://h.example/a b?t=x",
            ],
            "contains whitespace",
        ),
        (
            vec!["doctor", "--write", "--topic", "customer.updated"],
            "--callback-url <URL>",
        ),
        (vec!["doctor", "--topic", "customer.updated"], "--write"),
    ] {
        let run = world.run(&args);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains(says), "{says}:\n{run}");
    }
    assert_eq!(world.sandbox.counters().stats().total, 0);
}

/// A stub answering every GET with `reply()`.
fn listing(reply: impl Fn() -> Reply + Send + Sync + 'static) -> Stub {
    Stub::start(move |_| reply())
}

fn run_against(world: &World, stub: &Stub, extra: &[&str]) -> Run {
    let base = stub.base_url();
    let mut args = vec!["doctor", "--base-url", &base];
    args.extend(extra);
    world.run(&args)
}

#[test]
fn a_refused_key_reads_the_same_for_400_401_and_403() {
    let world = World::new();
    for status in ["400 Bad Request", "401 Unauthorized", "403 Forbidden"] {
        let stub = listing(move || netkit::json(status, r#"{"message":"invalid API key","data":{}}"#));
        let run = run_against(&world, &stub, &[]);
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stdout
                .contains(&format!("fail  get           the key was refused ({status} in ")),
            "{run}"
        );
        if status.starts_with("401") {
            doctor_snapshot!(world, "doctor_refused_key", run);
        }
    }
}

#[test]
fn html_from_a_proxy_and_a_wrong_base_url_say_so() {
    let world = World::new();
    let html = "<html><body>502 Bad Gateway</body></html>";
    let stub = listing(move || netkit::response("502 Bad Gateway", "text/html", html));
    let run = run_against(&world, &stub, &[]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains("an HTML page, from a proxy or gateway rather than the API"),
        "{run}"
    );
    let stub = listing(move || netkit::response("200 OK", "text/html", html));
    let run = run_against(&world, &stub, &[]);
    assert_eq!(run.code, 1, "{run}");
    doctor_snapshot!(world, "doctor_html", run);
    let stub = listing(|| netkit::json("404 Not Found", r#"{"message":"no route"}"#));
    let run = run_against(&world, &stub, &[]);
    assert!(
        run.stdout
            .contains("no webhook-subscriptions resource at this base URL"),
        "{run}"
    );
}

#[test]
fn a_paginated_list_fails_and_a_whole_one_with_hints_passes() {
    let world = World::new();
    let page = r#"{"message":"ok","data":{"items":[{"id":"1","topic":"customer.updated","name":"a","callbackUrl":"https://a.example/"}],"total":3,"nextToken":"p2"}}"#;
    let stub = listing(move || netkit::json("200 OK", page));
    let run = run_against(&world, &stub, &[]);
    assert_eq!(run.code, 1, "{run}");
    doctor_snapshot!(world, "doctor_paginated", run);
    let whole = r#"{"message":"ok","data":{"items":[],"Count":0}}"#;
    let stub = listing(move || netkit::json("200 OK", whole));
    let run = run_against(&world, &stub, &["--format", "json"]);
    assert_eq!(status_of(&run, "pagination"), "ok", "{run}");
    assert!(
        run.stdout
            .contains("hints say the list is whole (`data.Count`: 0)"),
        "{run}"
    );
}

#[test]
fn other_shapes_ids_fields_duplicates_urls_and_rate_limits_are_warnings() {
    let world = World::new();
    let list = json!({"message": "ok", "data": {"webhookSubscriptions": [
        {"id": 7, "topic": "customer.updated", "name": "crm", "callbackUrl": "https://crm.example/a", "enabled": true},
        {"id": 8, "topic": "customer.updated", "name": "crm", "callbackUrl": "https://crm.example/b?token=s3cr3t x"},
        {"id": "9", "topic": "customer.ordered", "name": "erp", "callbackUrl": "ftp://erp.example/in", "secretKey": "z"},
    ]}})
    .to_string();
    let stub = Stub::start(move |_| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-ratelimit-limit: 60\r\nx-ratelimit-remaining: 0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            list.len()
        );
        Reply::Raw([head.as_bytes(), list.as_bytes()].concat())
    });
    let run = run_against(&world, &stub, &[]);
    assert_eq!(run.code, 0, "warnings only:\n{run}");
    assert!(!run.stdout.contains("s3cr3t"), "{run}");
    doctor_snapshot!(world, "doctor_warnings", run);
}

/// An in-memory API on a stub: GET lists, POST creates (201 with the id),
/// PUT renames, DELETE removes; a DELETE of an id it does not hold answers
/// `gone`, a PUT answers `put` instead when given.
fn store(held: Vec<Value>, gone: &'static str, put: Option<&'static str>) -> (Stub, Arc<Mutex<Vec<Value>>>) {
    let state = Arc::new(Mutex::new(held));
    let subs = Arc::clone(&state);
    let stub = Stub::start(move |request: &Recorded| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut subs = subs.lock().unwrap();
        let at = subs.iter().position(|s| s["id"] == body["id"]);
        let envelope = |data: Value| json!({"message": "ok", "data": data}).to_string();
        match (request.method(), at) {
            ("GET", _) => netkit::json("200 OK", envelope(Value::from(subs.clone()))),
            ("POST", _) => {
                let mut sub = body.clone();
                sub["id"] = Value::from(format!("s{}", subs.len() + 100));
                subs.push(sub.clone());
                netkit::json("201 Created", envelope(sub))
            }
            ("PUT", Some(_)) if put.is_some() => netkit::json(put.unwrap_or_default(), envelope(json!({}))),
            ("PUT", Some(i)) => {
                subs[i]["name"] = body["name"].clone();
                netkit::json("200 OK", envelope(subs[i].clone()))
            }
            ("DELETE", Some(i)) => netkit::json("200 OK", envelope(subs.remove(i))),
            _ => netkit::json(gone, r#"{"message":"no such subscription","data":{}}"#),
        }
    });
    (stub, state)
}

fn held() -> Vec<Value> {
    vec![
        json!({"id": "s1", "topic": "customer.updated", "name": "crm", "callbackUrl": "https://crm.example/"}),
    ]
}

#[test]
fn a_404_for_an_id_already_gone_fits_apply_and_a_500_does_not() {
    let world = World::new();
    let (stub, state) = store(held(), "404 Not Found", None);
    let run = run_against(&world, &stub, &WRITE);
    assert_eq!(run.code, 0, "{run}");
    doctor_snapshot!(world, "doctor_write_404", run);
    assert_eq!(
        *state.lock().unwrap(),
        held(),
        "the other subscription is untouched"
    );
    let (stub, _) = store(held(), "500 Internal Server Error", None);
    let mut args = vec!["--format", "json"];
    args.extend(WRITE);
    let run = run_against(&world, &stub, &args);
    assert_eq!(
        (run.code, status_of(&run, "delete_again")),
        (0, "warn".to_owned()),
        "{run}"
    );
    assert!(run.stdout.contains("\"gone_status\": 500"), "{run}");
}

#[test]
fn a_failed_step_still_removes_the_throwaway() {
    let world = World::new();
    let (stub, state) = store(held(), "404 Not Found", Some("409 Conflict"));
    let mut args = vec!["--format", "json"];
    args.extend(WRITE);
    let run = run_against(&world, &stub, &args);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(status_of(&run, "rename"), "fail", "{run}");
    assert_eq!(status_of(&run, "cleanup"), "ok", "{run}");
    assert_eq!(*state.lock().unwrap(), held(), "deleted; the other untouched");
    let methods: Vec<String> = stub.requests().iter().map(|r| r.method().to_owned()).collect();
    assert!(methods.contains(&"DELETE".to_owned()), "{methods:?}");
}

#[test]
fn tls_is_verified_through_the_proxy_and_an_unknown_ca_fails_connect() {
    let world = World::new();
    let pki = netkit::Pki::new(&["localhost"]);
    world.write("ca.pem", &pki.ca_pem);
    let front = netkit::TlsFront::start(&pki, world.sandbox.addr());
    let proxy = netkit::Proxy::start(([127, 0, 0, 1], front.port()).into());
    let base = format!("https://localhost:{}/v2.0", front.port());
    let run = world.run(&["doctor", "--base-url", &base, "--format", "json"]);
    assert_eq!(
        (run.code, status_of(&run, "connect")),
        (1, "fail".to_owned()),
        "{run}"
    );
    assert!(
        run.stdout.contains("TLS certificate is not trusted") && run.stdout.contains("--ca-cert FILE"),
        "{run}"
    );
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "the key was never sent"
    );
    let via = proxy.url();
    let args = ["doctor", "--base-url", &base, "--ca-cert", "ca.pem"];
    let run = world.run_env(&args, &[("HTTPS_PROXY", &via)]);
    assert_eq!(run.code, 0, "{run}");
    // The proxy's URL as parsed, masked like every URL shown (a `/` path).
    let said = format!("ok    connect       verified TLS to `localhost` (`HTTPS_PROXY` is `{via}/`)");
    assert!(run.stdout.contains(&said), "{run}");
    assert_eq!(proxy.requests().len(), 1, "through the proxy");
}
