//! Servers that disagree with our sandbox's defaults, and a run that is
//! killed or signalled, through the real binary (issue 19, findings 4, 5
//! and 10): ids in no order, a proxy that answers 503 after forwarding a
//! POST, 429 with `Retry-After` on every POST, a DELETE that races another
//! deleter. Each asserts that its fault happened.
#![cfg(unix)]

use std::time::{Duration, Instant};

use invhooks::sandbox::{Faults, Ids};

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
            visibility_delay: Duration::from_millis(1500),
            ..Faults::default()
        },
        Ids::Random,
    );
    world.write("webhooks.yaml", &eight());
    let killed = Running::start(&world, &["apply", "--auto-approve", "--wait", "20"]);
    until("8 POSTs", || world.sandbox.stats().post >= 8);
    killed.signal("KILL");
    let killed = killed.finish("SIGKILL");
    assert_eq!(killed.code, -1, "killed by the signal:\n{killed}");
    assert!(
        world.sandbox.visible_subscriptions(KEY).len() < 8,
        "the killed run's creates were not all visible yet"
    );

    let again = world.run(&["apply", "--auto-approve", "--wait", "20"]);
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(world.sandbox.stats().post, 16, "the re-run created them again");
    assert!(
        again.stdout.contains("cleaned up a duplicate this run created"),
        "{again}"
    );
    let live = world.sandbox.subscriptions(KEY);
    assert_eq!(live.len(), 8, "one copy of each:\n{again}\n{live:#?}");
    assert_eq!(world.run(&["plan", "--detailed-exitcode"]).code, 0);
}
