//! Servers that disagree with our sandbox's defaults, and a run that is
//! killed or signalled, through the real binary (issue 19, findings 4, 5
//! and 10): ids in no order, a proxy that answers 503 after forwarding a
//! POST, 429 with `Retry-After` on every POST, a DELETE that races another
//! deleter. Each asserts that its fault happened.
#![cfg(unix)]

use std::time::{Duration, Instant};

use invhooks::sandbox::{Faults, Ids};

use crate::netkit::{json, Recorded, Reply, Route, Stub};
use crate::support::*;

/// 8 declared subscriptions.
fn eight() -> String {
    let entries: String = (0..8)
        .map(|i| {
            entry(
                &format!("n{i}"),
                "customer.updated",
                &format!("https://a.example/{i}"),
            )
        })
        .collect();
    manifest(&format!("subscriptions:\n{entries}"))
}

/// Waits (bounded) until `done` holds.
fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Finding 4a: apply SIGKILLed after its creates were sent but before they
/// are visible, then re-run at once, against ids in no order. The re-run
/// creates them again; when the killed run's copies show up beside its
/// own it removes its own, whatever the ids: 8 live for 8 declared
/// (before: verification kept "the lowest id", often its own, and 11–12
/// were left).
#[test]
fn a_re_run_after_sigkill_leaves_one_copy_whatever_the_ids() {
    let world = World::with_ids(
        Faults {
            // Longer than the kill and the re-run's first read take.
            visibility_delay: Duration::from_millis(2000),
            ..Faults::default()
        },
        Ids::Random,
    );
    world.write("webhooks.yaml", &eight());
    let killed = Running::start(&world, &["apply", "--auto-approve", "--wait", "20"]);
    until("8 POSTs", || world.sandbox.counters().stats().post >= 8);
    killed.signal("KILL");
    let killed = killed.finish("SIGKILL");
    assert_eq!(killed.code, -1, "killed by the signal:\n{killed}");
    assert!(
        world.sandbox.visible_subscriptions(KEY).len() < 8,
        "the killed run's creates were not all visible yet"
    );

    let again = world.run(&["apply", "--auto-approve", "--wait", "20"]);
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(
        world.sandbox.counters().stats().post,
        16,
        "the re-run created them again"
    );
    assert!(
        again.stdout.contains("cleaned up a duplicate this run created"),
        "{again}"
    );
    let live = world.sandbox.subscriptions(KEY);
    assert_eq!(live.len(), 8, "one copy of each:\n{again}\n{live:#?}");
    assert_eq!(world.run(&["plan", "--detailed-exitcode"]).code, 0);
}

/// A sandbox world behind a relay ([`Stub::relay`]) routed by `router`, with `yaml` as
/// its manifest.
fn behind_relay(yaml: &str, router: impl Fn(&Recorded) -> Route + Send + Sync + 'static) -> (World, Stub) {
    let world = World::with_ids(Faults::default(), Ids::Random);
    world.write("webhooks.yaml", yaml);
    let relay = Stub::relay(world.sandbox.addr(), router);
    (world, relay)
}

/// Finding 4b: a proxy that forwards every POST and answers 503 (its
/// upstream timed out). A 503 on POST is an unknown outcome: the list is
/// read before anything is resent, so each create is sent once and made
/// once (before: retried blindly, a copy per retry).
#[test]
fn a_post_answered_503_by_a_proxy_that_forwarded_it_is_not_resent() {
    let (world, relay) = behind_relay(&eight(), |r| match r.method() {
        "POST" => Route::ForwardThen(json(
            "503 Service Unavailable",
            r#"{"message":"upstream timed out","data":{}}"#,
        )),
        _ => Route::Forward,
    });
    // Each create is found by its values at the first read (no visibility
    // delay): `--wait 0`, as verification would read until `--wait`.
    let run = world.run(&[
        "apply",
        "--auto-approve",
        "--wait",
        "0",
        "--base-url",
        &relay.base_url(),
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(relay.count("POST"), 8, "each create sent once:\n{run}");
    assert_eq!(
        world.sandbox.counters().stats().post,
        8,
        "the proxy forwarded each"
    );
    assert_eq!(world.sandbox.subscriptions(KEY).len(), 8, "{run}");
    assert_eq!(run.stdout.matches("\n  done ").count(), 8, "{run}");
}

/// A 429 answer with `Retry-After: 8`.
fn throttled() -> Reply {
    let body = r#"{"message":"too many requests","data":{}}"#;
    Reply::Raw(
        format!(
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 8\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Finding 5: every POST answered 429 with `Retry-After: 8`, then SIGTERM
/// while the run waits. No request starts after the signal, the wait ends
/// at once and the report comes within `--timeout` (before: 14 more POSTs
/// and the report 110 s later).
#[test]
fn sigterm_ends_a_retry_after_wait_at_once_and_sends_nothing_more() {
    let (world, relay) = behind_relay(&eight(), |r| match r.method() {
        "POST" => Route::Answer(throttled()),
        _ => Route::Forward,
    });
    let base = relay.base_url();
    let args = [
        "apply",
        "--auto-approve",
        "--parallelism",
        "1",
        "--timeout",
        "3",
        "--base-url",
        &base,
    ];
    let running = Running::start(&world, &args);
    until("the first POST", || relay.count("POST") >= 1);
    running.signal("TERM");
    let signalled = Instant::now();
    let run = running.finish("SIGTERM during Retry-After");
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "the report within --timeout of the signal: {:?}\n{run}",
        signalled.elapsed()
    );
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(relay.count("POST"), 1, "no POST after the signal:\n{run}");
    assert_eq!(relay.count("GET"), 1, "only the plan's read:\n{run}");
    assert_eq!(run.stdout.matches("\n  not started ").count(), 8, "{run}");
    assert!(run.stdout.contains("Apply interrupted:"), "{run}");
    assert!(run.stdout.contains("not verified: interrupted"), "{run}");
    assert!(run.stderr.contains("interrupted: starting no new calls"), "{run}");
}

/// Finding 10: a DELETE that races another deleter, which removes the same
/// id just before: the API answers 400 "no subscription with id". A fresh
/// read no longer lists it: `done`, already gone, exit 0, and the report
/// says nothing contradictory (before: failed, exit 1, "converged" and
/// "Re-run to converge" in one report).
#[test]
fn a_delete_that_races_another_deleter_is_done_already_gone() {
    let yaml = manifest(&format!(
        "subscriptions:\n{}",
        entry("crm", "customer.updated", "https://a.example/")
    ));
    let (world, relay) = behind_relay(&yaml, |r| match r.method() {
        "DELETE" => Route::Twice,
        _ => Route::Forward,
    });
    world.seed(&[
        ("customer.updated", "crm", "https://a.example/"),
        ("customer.updated", "old", "https://old.example/"),
    ]);
    let run = world.run(&["apply", "--auto-approve", "--base-url", &relay.base_url()]);
    assert_eq!(
        world.sandbox.counters().stats().delete,
        2,
        "the other deleter came first"
    );
    assert_eq!(relay.count("DELETE"), 1);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("\n  done "), "{run}");
    assert!(run.stdout.contains("already gone: "), "{run}");
    assert!(run.stdout.contains("converged"), "{run}");
    assert!(!run.stdout.contains("Re-run"), "{run}");
    assert_eq!(world.live().len(), 1);
}

/// Ctrl-C at the `yes` prompt (a real terminal, through `script`): says
/// `apply cancelled; nothing was changed` and exits 1, nothing sent but
/// the plan's read (before: nothing printed, exit 130).
#[test]
fn ctrl_c_at_the_prompt_cancels_with_exit_1() {
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};

    let world = World::new();
    world.write("webhooks.yaml", &eight());
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("exec {} apply", env!("CARGO_BIN_EXE_invhooks")),
            "/dev/null",
        ])
        .env_clear()
        .current_dir(world.dir.path())
        .env("INVETERATE_API_KEY", KEY)
        .env("INVETERATE_BASE_URL", world.sandbox.base_url())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).is_ok_and(|n| n == 1) {
            seen.push(byte[0]);
            let text = String::from_utf8_lossy(&seen);
            if text.contains("Only `yes` is accepted:") {
                break;
            }
        }
        (stdout, seen)
    });
    let started = Instant::now();
    while !reader.is_finished() {
        assert!(started.elapsed() < Duration::from_secs(30), "no prompt");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (mut stdout, mut seen) = reader.join().unwrap();
    // Ctrl-C as a terminal sends it: the line discipline makes it SIGINT.
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let rest = std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = stdout.read_to_end(&mut rest);
        rest
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "hung at the prompt");
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    seen.extend(rest.join().unwrap());
    let shown = String::from_utf8_lossy(&seen);
    assert!(!shown.contains(KEY));
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("apply cancelled; nothing was changed"), "{shown}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put, stats.delete), (0, 0, 0), "{shown}");
}
