//! `drift`: exit 0 in sync, 2 on drift, 1 on error; grouped by kind.

use crate::support::*;

#[test]
fn drift_groups_by_kind_and_exits_2() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:
  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/new\"}
  - {name: b, topic: customer.ordered, callbackUrl: \"https://b.example/\"}
  - {name: c, topic: customer.cancelled, callbackUrl: \"https://c.example/\"}
",
        ),
    );
    world.seed(&[
        ("customer.updated", "a", "https://a.example/old"),
        ("customer.cancelled", "c", "https://c.example/"),
        ("customer.cancelled", "c", "https://c.example/"),
        (
            "customer.payment_failed",
            "manual",
            "https://manual.example/?key=abc",
        ),
    ]);
    let run = world.run(&["drift"]);
    assert_eq!(run.code, 2, "{run}");
    insta::assert_snapshot!(run.to_string());
    let json = world.run(&["drift", "--format", "json"]);
    assert_eq!(json.code, 2, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["drift"], true);
    assert_eq!(doc["merchants"][0]["items"].as_array().unwrap().len(), 4);
    // The counts, like plan's and check's `summary`: each kind once here.
    let summary = serde_json::json!({"changed_url": 1, "missing": 1, "unmanaged": 1, "duplicate": 1, "unchanged": 1, "ignored": 0});
    assert_eq!(doc["summary"], summary, "{json}");
    assert_eq!(doc["merchants"][0]["summary"], summary, "{json}");
    snapshot!(world, "drift_json", json.stdout);
    let md = world.run(&["drift", "--format", "markdown"]);
    assert!(
        md.stdout
            .starts_with("<!-- invhooks drift -->\n### invhooks drift"),
        "{md}"
    );
    let fingerprint = doc["merchants"][0]["items"][0]["fingerprint"].as_str().unwrap();
    assert!(
        run.stdout.contains(fingerprint) && md.stdout.contains(fingerprint),
        "{md}"
    );
}

#[test]
fn in_sync_exits_0() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    world.seed(&[("customer.updated", "a", "https://a.example/")]);
    let run = world.run(&["drift"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("No drift"), "{run}");
}

#[test]
fn errors_exit_1() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let run = world.run_env(&["drift"], &[("INVETERATE_API_KEY", "wrong-key")]);
    assert_eq!(run.code, 1, "{run}");
}
