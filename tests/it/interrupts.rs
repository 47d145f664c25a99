//! An interrupted `apply` (Ctrl-C, or SIGTERM from a cancelled CI job):
//! no new call after the first signal, a report that says what was done,
//! failed or not started, exit 1, and a re-run that converges; a second
//! signal exits at once with 130.
#![cfg(unix)]

use std::time::{Duration, Instant};

use invhooks::sandbox::Faults;

use crate::support::*;

/// 20 creates against a slow sandbox, so the run is still going when
/// the signal comes: ten rounds of two calls, 150 ms each.
fn slow_world() -> World {
    let world = World::with_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let entries: String = (0..20)
        .map(|i| {
            format!(
                "  - {{name: n{i:02}, topic: customer.updated, callbackUrl: \"https://a.example/{i}\"}}\n"
            )
        })
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{entries}")));
    world
}

const APPLY: [&str; 6] = ["apply", "--auto-approve", "--parallelism", "2", "--wait", "5"];

/// Sends `signal` to the binary once the sandbox has seen `posts` POSTs.
fn signal_after(world: &World, running: &Running, posts: u64, signal: &str) {
    let started = Instant::now();
    while world.sandbox.counters().stats().post < posts {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "apply never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running.signal(signal);
}

#[test]
fn sigterm_finishes_in_flight_calls_and_reports_what_was_not_started() {
    let world = slow_world();
    let running = Running::start(&world, &APPLY);
    signal_after(&world, &running, 4, "TERM");
    let run = running.finish("SIGTERM");
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("interrupted: starting no new calls"), "{run}");
    let done = run.stdout.matches("\n  done ").count();
    let not_started = run.stdout.matches("\n  not started ").count();
    assert!(not_started > 0, "the signal came mid-run:\n{run}");
    assert_eq!(done + not_started, 20, "every change is accounted for:\n{run}");
    assert!(run.stdout.contains("Apply interrupted:"), "{run}");
    // What the report calls done is exactly what is live: nothing lost in
    // flight, nothing done behind the report's back.
    assert_eq!(world.live().len(), done, "{run}");
    assert_eq!(
        world.sandbox.counters().stats().post as usize,
        done,
        "no call after the in-flight ones"
    );
    let again = world.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "a re-run converges:\n{again}");
    assert_eq!(world.live().len(), 20);
}

#[test]
fn a_second_signal_exits_at_once_with_130() {
    let world = slow_world();
    let mut running = Running::start(&world, &APPLY);
    signal_after(&world, &running, 2, "INT");
    running.await_stderr("interrupted: starting no new calls");
    running.signal("INT");
    let run = running.finish("a second SIGINT");
    assert_eq!(run.code, 130, "{run}");
    assert!(run.stderr.contains("interrupted again: exiting now"), "{run}");
}

#[test]
fn an_interrupted_json_report_says_so() {
    let world = slow_world();
    let args: Vec<&str> = APPLY.iter().copied().chain(["--format", "json"]).collect();
    let running = Running::start(&world, &args);
    signal_after(&world, &running, 4, "TERM");
    let run = running.finish("SIGTERM, JSON report");
    assert_eq!(run.code, 1, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["interrupted"], true, "{run}");
    assert_eq!(doc["succeeded"], false, "{run}");
    let outcomes: Vec<&str> = doc["merchants"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 20, "{run}");
    assert!(
        outcomes.contains(&"not started"),
        "the signal came mid-run:\n{run}"
    );
}
