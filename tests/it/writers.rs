//! Not alone: another writer changing the same merchant while `apply`
//! runs, and creates that become visible slowly. Through the binary,
//! against the sandbox over loopback.

use std::time::Duration;

use invhooks::sandbox::Faults;

use crate::support::*;

/// A manifest declaring `n` subscriptions named `n00`… with `url`.
fn many(n: usize, url: &str) -> String {
    let entries: String = (0..n)
        .map(|i| format!("  - {{name: n{i:02}, topic: customer.updated, callbackUrl: \"{url}\"}}\n"))
        .collect();
    manifest(&format!("merchant: acme\nsubscriptions:\n{entries}"))
}

#[test]
fn two_applies_at_once_lose_nothing_and_say_another_writer_is_active() {
    // Slow enough that both runs read the empty list before either writes.
    let world = World::with_faults(Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    });
    world.write("a/webhooks.yaml", &many(20, "https://a.example/hook"));
    world.write("b/webhooks.yaml", &many(20, "https://b.example/hook"));
    let args = |dir: &'static str| ["apply", "--auto-approve", "--wait", "5", "-f", dir];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| world.run(&args("a/webhooks.yaml")));
        let b = s.spawn(|| world.run(&args("b/webhooks.yaml")));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(world.live().len(), 40, "nothing deleted:\n{a}\n{b}");
    assert_eq!(world.sandbox.counters().stats().delete, 0);
    for run in [&a, &b] {
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stdout
                .contains("another writer is active: 20 subscription(s)"),
            "{run}"
        );
        assert!(!run.stdout.contains("cleaned up"), "{run}");
    }
}

#[test]
fn slow_visibility_with_unknown_outcomes_sends_each_create_once() {
    // Half the creates are written then answered 500, and a create shows
    // in GET only 0.7 s later (a resolution's first two reads, 500 ms
    // apart, miss it; its read at `--wait 1` finds it): none may be sent
    // twice.
    let world = World::with_faults(Faults {
        seed: 3,
        partial_failure_rate: 0.5,
        visibility_delay: Duration::from_millis(700),
        ..Faults::default()
    });
    world.write("webhooks.yaml", &many(10, "https://a.example/hook"));
    let run = world.run(&["apply", "--auto-approve", "--wait", "1"]);
    assert_eq!(run.code, 0, "{run}");
    let stats = world.sandbox.counters().stats();
    assert!(
        stats.injected.partial_failures > 0,
        "the fault happened: {stats:?}"
    );
    assert_eq!(stats.post, 10, "one POST per create: {stats:?}");
    assert_eq!(world.live().len(), 10);
    let again = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
}

#[test]
fn a_server_that_lowercases_hosts_is_named_not_fought() {
    use std::sync::Mutex;

    use crate::netkit::{json, Stub};

    // A server that stores callback URLs with the host lowercased.
    let stored: Mutex<Vec<serde_json::Value>> = Mutex::new(Vec::new());
    let stub = Stub::start(move |request| {
        let mut stored = stored.lock().unwrap();
        match request.method() {
            "POST" => {
                let mut sub: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                let url = sub["callbackUrl"]
                    .as_str()
                    .unwrap()
                    .replace("HOOKS.Example", "hooks.example");
                sub["callbackUrl"] = url.into();
                sub["id"] = format!("wh_{}", stored.len() + 1).into();
                stored.push(sub.clone());
                json(
                    "201 Created",
                    serde_json::json!({"message": "created", "data": sub}).to_string(),
                )
            }
            _ => json(
                "200 OK",
                serde_json::json!({"message": "ok", "data": *stored}).to_string(),
            ),
        }
    });
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: crm, topic: customer.updated, callbackUrl: \"https://HOOKS.Example/in\"}\n"),
    );
    let run = world.run_env(
        &["apply", "--auto-approve", "--wait", "30"],
        &[("INVETERATE_BASE_URL", &stub.base_url())],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains(
            "the server stores `callbackUrl` of [wh_1] as the same URL written differently (`https://hooks.example/in`); \
             write it in the manifest as `invhooks export` shows it"
        ),
        "{run}"
    );
    let posts = stub.requests().iter().filter(|r| r.method() == "POST").count();
    let deletes = stub.requests().iter().filter(|r| r.method() == "DELETE").count();
    assert_eq!(
        (posts, deletes),
        (1, 0),
        "no create sent again, the stored copy kept"
    );
}

#[test]
fn two_merchants_with_one_key_are_refused_before_any_request() {
    let world = World::new();
    let body =
        "subscriptions:\n  - {name: crm, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n";
    world.write("m/eu.yaml", &manifest(&format!("apiKeyEnv: KEY_EU\n{body}")));
    world.write("m/us.yaml", &manifest(&format!("apiKeyEnv: KEY_US\n{body}")));
    let run = world.run_env(&["plan", "-f", "m"], &[("KEY_EU", KEY), ("KEY_US", KEY)]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("eu.yaml") && run.stderr.contains("us.yaml"),
        "names both:\n{run}"
    );
    assert_eq!(world.sandbox.counters().stats().total, 0, "before any request");
    // Different keys are two stores: fine.
    let ok = world.run_env(&["plan", "-f", "m"], &[("KEY_EU", KEY), ("KEY_US", KEY_B)]);
    assert_eq!(ok.code, 0, "{ok}");
}
