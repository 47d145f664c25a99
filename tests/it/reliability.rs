//! Apply against a faulty API, one fault kind at a time, through the real
//! binary: it converges, reports truthfully, and never duplicates.

use std::time::Duration;

use invhooks::sandbox::Faults;

use crate::support::*;

/// A manifest of `n` subscriptions, and live state needing every kind of
/// change: 2 updates, 2 deletes, the rest creates.
fn scenario(faults: Faults, n: usize) -> World {
    let world = World::with_faults(faults);
    let entries: String = (0..n)
        .map(|i| {
            format!(
                "  - {{name: n{i}, topic: customer.updated, callbackUrl: \"https://hooks.example/{i}\"}}\n"
            )
        })
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{entries}")));
    world.seed(&[
        ("customer.updated", "n0", "https://old.example/0"),
        ("customer.updated", "n1", "https://old.example/1"),
        ("customer.ordered", "gone-1", "https://old.example/x"),
        ("customer.ordered", "gone-2", "https://old.example/y"),
    ]);
    world
}

fn expected(n: usize) -> Vec<(String, String, String)> {
    let mut want: Vec<_> = (0..n)
        .map(|i| {
            (
                "customer.updated".to_owned(),
                format!("n{i}"),
                format!("https://hooks.example/{i}"),
            )
        })
        .collect();
    want.sort();
    want
}

/// Applies (and re-applies once if the first run exits 1), then checks
/// live equals the manifest with no duplicate. `wait` (`--wait`, seconds)
/// is above the visibility delay, if any: how long a create whose outcome
/// is unknown is looked for before it is sent again. Without a delay it is
/// 0: one read then tells, as every change shows at once.
fn converges(world: &World, n: usize, wait: &str) -> Run {
    let apply = ["apply", "--auto-approve", "--timeout", "2", "--wait", wait];
    let mut run = world.run(&apply);
    if run.code == 1 {
        run = world.run(&apply);
    }
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(world.live(), expected(n), "{run}");
    run
}

#[test]
fn errors_before_the_write() {
    let world = scenario(
        Faults {
            seed: 7,
            error_rate: 0.3,
            ..Faults::default()
        },
        8,
    );
    converges(&world, 8, "0");
    let log = world.sandbox.counters().fault_log();
    assert!(
        log.iter()
            .any(|f| f.starts_with("POST ") && f.ends_with(" error")),
        "a create was answered 500 before its write: {log:?}"
    );
}

#[test]
fn failures_after_the_write_are_reported_as_done() {
    let world = scenario(
        Faults {
            seed: 2,
            partial_failure_rate: 1.0,
            ..Faults::default()
        },
        6,
    );
    // Each create is found by its values at the first read (no visibility
    // delay): `--wait 0`, as verification would read until --wait.
    let run = world.run(&["apply", "--auto-approve", "--timeout", "2", "--wait", "0"]);
    assert_eq!(
        run.code, 0,
        "every write happened, so every change is done:\n{run}"
    );
    assert!(run.stdout.contains("8 done, 0 failed"), "{run}");
    assert_eq!(world.live(), expected(6));
}

#[test]
fn dropped_connections() {
    let world = scenario(
        Faults {
            seed: 3,
            drop_rate: 0.3,
            ..Faults::default()
        },
        8,
    );
    converges(&world, 8, "0");
    let injected = world.sandbox.counters().stats().injected;
    assert!(
        injected.drops_before + injected.drops_after > 0,
        "a connection was dropped"
    );
}

#[test]
fn eventual_consistency_is_waited_for() {
    let faults = Faults {
        seed: 4,
        visibility_delay: Duration::from_millis(700),
        ..Faults::default()
    };
    let world = scenario(faults, 5);
    let run = converges(&world, 5, "1");
    assert!(run.stdout.contains("converged"), "{run}");
    let plan = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
}

#[test]
fn verification_that_times_out_says_what_is_missing() {
    let faults = Faults {
        seed: 5,
        visibility_delay: Duration::from_secs(30),
        ..Faults::default()
    };
    let world = scenario(faults, 3);
    let run = world.run(&["apply", "--auto-approve", "--wait", "1"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains("not converged: 1 change(s) still needed"),
        "{run}"
    );
    assert!(run.stdout.contains("+ customer.updated n2"), "{run}");
}

#[test]
fn rate_limits_slow_the_client_instead_of_failing() {
    let world = scenario(
        Faults {
            seed: 6,
            rate_limit: Some(20.0),
            ..Faults::default()
        },
        40,
    );
    let run = converges(&world, 40, "2");
    assert!(run.stdout.contains("0 failed"), "{run}");
    assert!(
        world.sandbox.counters().stats().injected.rate_limited > 0,
        "the limit was reached"
    );
}

#[test]
fn latency_is_only_slower() {
    let world = scenario(
        Faults {
            seed: 7,
            latency: Duration::from_millis(50),
            ..Faults::default()
        },
        4,
    );
    let started = std::time::Instant::now();
    converges(&world, 4, "2");
    // The sandbox counts no latency, so the clock shows it was injected:
    // five rounds of requests run one after another (the plan's GET,
    // creates, updates, deletes, verification's GET), each 50 ms or more.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250), "no latency: {elapsed:?}");
}

#[test]
fn apply_report_as_json() {
    let world = scenario(Faults::default(), 3);
    let run = world.run(&["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["succeeded"], true);
    assert_eq!(doc["interrupted"], false);
    let m = &doc["merchants"][0];
    assert_eq!(m["verification"]["status"], "converged");
    let outcomes: Vec<&str> = m["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["done"; 5]);
    assert!(
        run.stderr.contains("Plan: 1 to create, 2 to update, 2 to delete"),
        "the plan goes to stderr:\n{run}"
    );
}

/// A stateful stub of the resource: GET lists what was created; the first
/// `throttled` POSTs (every one, if `None`) answer 429 with `Retry-After:
/// value`, the others create.
fn throttling_stub(value: &str, throttled: Option<usize>) -> crate::netkit::Stub {
    use crate::netkit::{json, Reply, Stub};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let value = value.to_owned();
    let posts = AtomicUsize::new(0);
    let created = Mutex::new(Vec::<serde_json::Value>::new());
    Stub::start(move |request| match request.method() {
        "GET" => {
            let data = serde_json::json!({"message": "ok", "data": *created.lock().unwrap()});
            json("200 OK", data.to_string())
        }
        "POST" if throttled.is_none_or(|n| posts.fetch_add(1, Ordering::SeqCst) < n) => {
            let body = r#"{"message":"rate limit exceeded","data":{}}"#;
            Reply::Raw(
                format!(
                    "HTTP/1.1 429 Too Many Requests\r\nretry-after: {value}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            )
        }
        "POST" => {
            let mut sub: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let mut created = created.lock().unwrap();
            sub["id"] = format!("wh_{}", created.len() + 1).into();
            created.push(sub.clone());
            json(
                "201 Created",
                serde_json::json!({"message": "created", "data": sub}).to_string(),
            )
        }
        _ => json("400 Bad Request", r#"{"message":"unexpected","data":{}}"#),
    })
}

/// `apply` of three creates against `stub`, killed if it takes longer
/// than a bound far above what it needs (a guard against hangs, not a
/// speed test).
fn apply_against(stub: &crate::netkit::Stub) -> Run {
    let world = World::new();
    let entries: String = (0..3)
        .map(|i| {
            format!(
                "  - {{name: n{i}, topic: customer.updated, callbackUrl: \"https://hooks.example/{i}\"}}\n"
            )
        })
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{entries}")));
    let base = stub.base_url();
    let mut cmd = world.command(&[
        "apply",
        "--auto-approve",
        "--parallelism",
        "3",
        "--wait",
        "5",
        "--base-url",
        &base,
    ]);
    cmd.timeout(Duration::from_secs(90));
    let started = std::time::Instant::now();
    let run = run(&mut cmd);
    assert!(started.elapsed() < Duration::from_secs(90), "apply hung:\n{run}");
    assert_ne!(run.code, 101, "apply panicked:\n{run}");
    assert!(!run.stderr.contains("crashed"), "{run}");
    run
}

#[test]
fn a_retry_after_beyond_the_budget_fails_the_call_at_once() {
    let in_two_hours = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
    for value in [
        "3600",
        "18446744073709551615",
        "99999999999999999999999",
        in_two_hours.as_str(),
    ] {
        let stub = throttling_stub(value, None);
        let run = apply_against(&stub);
        assert_eq!(run.code, 1, "Retry-After: {value}\n{run}");
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(
            text.contains("the server asked to wait")
                && text.contains("left of the retry budget, so the call was not retried"),
            "Retry-After: {value}\n{run}"
        );
        let posts = stub.requests().iter().filter(|r| r.method() == "POST").count();
        assert_eq!(
            posts, 3,
            "each create was tried once and not retried: {value}\n{run}"
        );
    }
}

#[test]
fn a_retry_after_in_the_past_or_nonsense_is_not_a_wait() {
    // One run per value, side by side: each waits out its own backoff.
    std::thread::scope(|scope| {
        for value in ["0", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5", "1e9", ""] {
            scope.spawn(move || {
                let stub = throttling_stub(value, Some(2));
                let run = apply_against(&stub);
                assert_eq!(run.code, 0, "Retry-After: {value:?}\n{run}");
                assert!(run.stdout.contains("converged"), "{run}");
                let posts = stub.requests().iter().filter(|r| r.method() == "POST").count();
                assert_eq!(posts, 5, "two 429s were retried: {value:?}\n{run}");
            });
        }
    });
}
