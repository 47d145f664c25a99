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
/// live equals the manifest with no duplicate.
fn converges(world: &World, n: usize) -> Run {
    let mut run = world.run(&["apply", "--auto-approve", "--timeout", "2", "--wait", "10"]);
    if run.code == 1 {
        run = world.run(&["apply", "--auto-approve", "--timeout", "2", "--wait", "10"]);
    }
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(world.live(), expected(n), "{run}");
    run
}

#[test]
fn errors_before_the_write() {
    let world = scenario(
        Faults {
            seed: 1,
            error_rate: 0.3,
            ..Faults::default()
        },
        8,
    );
    converges(&world, 8);
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
    let run = world.run(&["apply", "--auto-approve", "--timeout", "2"]);
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
    converges(&world, 8);
}

#[test]
fn eventual_consistency_is_waited_for() {
    let faults = Faults {
        seed: 4,
        visibility_delay: Duration::from_millis(700),
        ..Faults::default()
    };
    let world = scenario(faults, 5);
    let run = converges(&world, 5);
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
    let run = converges(&world, 40);
    assert!(run.stdout.contains("0 failed"), "{run}");
    assert!(
        world.sandbox.stats().injected.rate_limited > 0,
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
    converges(&world, 4);
}

#[test]
fn apply_report_as_json() {
    let world = scenario(Faults::default(), 3);
    let run = world.run(&["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["succeeded"], true);
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
