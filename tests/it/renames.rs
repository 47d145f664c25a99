//! `renamedFrom` end to end (README "Renames"): a rename is one PUT on the
//! live id, shown as `old → new` in every format; old and new both live
//! deletes the old one; `drift` notes an applied rename without exit 1.

use crate::support::*;

const T: &str = "customer.updated";

/// `crm-v2` renamed from `crm`, callback `url`.
fn renamed(url: &str) -> String {
    manifest(&format!(
        "subscriptions:\n  - name: crm-v2\n    topic: {T}\n    callbackUrl: \"{url}\"\n    renamedFrom: crm\n"
    ))
}

#[test]
fn a_rename_is_one_put_on_the_same_id_and_the_next_plan_is_empty() {
    let world = World::new();
    world.write("webhooks.yaml", &renamed("https://crm.example/hook"));
    let id = world.seed(&[(T, "crm", "https://crm.example/hook")])[0]
        .id
        .clone();
    world.sandbox.counters().reset();
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put, stats.delete), (0, 1, 0), "{run}");
    let live = world.sandbox.subscriptions(KEY);
    assert_eq!(live.len(), 1);
    assert_eq!(
        (live[0].id.as_str(), live[0].name.as_str()),
        (id.as_str(), "crm-v2")
    );
    let again = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
}

#[test]
fn a_rename_reads_old_to_new_in_text_json_and_markdown() {
    let world = World::new();
    world.write("webhooks.yaml", &renamed("https://crm.example/v2"));
    world.seed(&[(T, "crm", "https://crm.example/hook")]);
    let text = world.run(&["plan"]);
    assert_eq!(text.code, 0, "{text}");
    assert!(text.stdout.contains(&format!("~ {T} crm → crm-v2 [")), "{text}");
    snapshot!(world, "rename_text", text.stdout);
    let json = world.run(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = &doc["merchants"][0]["changes"][0];
    assert_eq!(change["action"], "update", "{json}");
    assert_eq!(
        (&change["before"]["name"], &change["after"]["name"]),
        (&"crm".into(), &"crm-v2".into())
    );
    snapshot!(world, "rename_json", json.stdout);
    let markdown = world.run(&["plan", "--format", "markdown"]);
    assert!(markdown.stdout.contains("| `crm` → `crm-v2` |"), "{markdown}");
    snapshot!(world, "rename_markdown", markdown.stdout);
}

#[test]
fn old_and_new_both_live_deletes_the_old_one() {
    let world = World::new();
    world.write("webhooks.yaml", &renamed("https://crm.example/hook"));
    world.seed(&[
        (T, "crm", "https://crm.example/hook"),
        (T, "crm-v2", "https://crm.example/hook"),
    ]);
    world.sandbox.counters().reset();
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put, stats.delete), (0, 0, 1), "{run}");
    assert_eq!(
        world.live(),
        [(T.into(), "crm-v2".into(), "https://crm.example/hook".into())]
    );
}

#[test]
fn drift_after_the_rename_notes_that_renamed_from_can_go() {
    let world = World::new();
    world.write("webhooks.yaml", &renamed("https://crm.example/hook"));
    world.seed(&[(T, "crm-v2", "https://crm.example/hook")]);
    let run = world.run(&["drift"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("rename of `customer.updated crm` to `crm-v2` applied, `renamedFrom: crm` can go (webhooks.yaml:3)"),
        "{run}"
    );
    assert!(run.stdout.contains("No drift."), "{run}");
    // JSON: `renamesApplied` after `summary`, with each rename's keys in order.
    let json = world.run(&["drift", "--format", "json"]).stdout;
    let merchant: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        merchant["merchants"][0]["renamesApplied"],
        serde_json::json!([{"topic": T, "name": "crm-v2", "renamedFrom": "crm", "line": 3}]),
        "{json}"
    );
    let keys = ["\"merchant\"", "\"items\"", "\"summary\"", "\"renamesApplied\""];
    let tail = &json[json.find("\"merchants\"").unwrap()..];
    let at: Vec<usize> = keys.iter().map(|k| tail.find(k).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{json}");
}
