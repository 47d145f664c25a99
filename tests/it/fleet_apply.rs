//! Applying a fleet (docs/fleets.md "Applying a fleet"): one store's
//! failure never stops the others; a safety refusal refuses the whole run
//! before any write, or with `--keep-going` skips only its store; the
//! report starts with the fleet summary, and the exit code says what
//! happened (3 when any store was refused, 1 for a failure).

use invhooks::sandbox::{Ids, SandboxConfig};

use crate::support::*;

/// Three stores: `a` (`INVETERATE_API_KEY`), `b` (`KEY_B`), `c` (`KEY_C`).
const KEY_C: &str = "test-key-c-5ecr3t";

fn three() -> World {
    let config = SandboxConfig {
        api_keys: vec![KEY.into(), KEY_B.into(), KEY_C.into()],
        ids: Ids::Sequential,
        ..SandboxConfig::default()
    };
    World::serving(config)
}

fn apply(world: &World, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "--auto-approve", "-f", "m"];
    args.extend_from_slice(extra);
    world.run_env(&args, &[("KEY_B", KEY_B), ("KEY_C", KEY_C)])
}

/// Store `label` reading `key_env`, declaring `entries` (YAML list items).
fn store(world: &World, label: &str, key_env: &str, entries: &str) {
    world.write(
        &format!("m/{label}.yaml"),
        &format!("version: 1\nmerchant: {label}\napiKeyEnv: {key_env}\nallowUnknownTopics: true\nsubscriptions:\n{entries}"),
    );
}

/// Ten live subscriptions in store `key`, and a manifest for it keeping
/// `keep` of them: 10 − keep deletes.
fn ten_live(world: &World, label: &str, key_env: &str, key: &str, keep: usize) {
    let names: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
    let seeds: Vec<(&str, &str, &str)> = names
        .iter()
        .map(|n| ("customer.updated", n.as_str(), "https://keep.example/"))
        .collect();
    world.sandbox.seed(key, &seeds);
    let entries: String = names[..keep]
        .iter()
        .map(|n| entry(n, "customer.updated", "https://keep.example/"))
        .collect();
    store(world, label, key_env, &entries);
}

/// Store `a` with one create, `b` tripping the delete threshold, `c` in
/// sync.
fn mixed() -> World {
    mixed_keeping(10)
}

/// [`mixed`] with store `c` keeping `c_keeps` of its ten.
fn mixed_keeping(c_keeps: usize) -> World {
    let world = three();
    store(
        &world,
        "a",
        "INVETERATE_API_KEY",
        &entry("crm", "customer.updated", "https://a.example/"),
    );
    ten_live(&world, "b", "KEY_B", KEY_B, 6);
    ten_live(&world, "c", "KEY_C", KEY_C, c_keeps);
    world
}

#[test]
fn a_refusal_refuses_the_whole_fleet_before_any_write_naming_every_refused_store() {
    let world = mixed_keeping(5);
    let run = apply(&world, &[]);
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr
            .contains("error: apply refused by a safety threshold; nothing was changed\n  merchant `b`: the plan updates or deletes 4 of 10")
            && run
                .stderr
                .contains("\n  merchant `c`: the plan updates or deletes 5 of 10"),
        "every refused store is named\n{run}"
    );
    assert!(
        run.stderr.contains("nothing was changed") && run.stderr.contains("`--keep-going`"),
        "{run}"
    );
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put, stats.delete), (0, 0, 0), "{run}");
}

#[test]
fn with_keep_going_a_refused_store_keeps_its_subscriptions_while_the_others_are_applied() {
    let world = mixed();
    let summary = world.path("summary.md");
    let mut cmd = world.command(&["apply", "--auto-approve", "--keep-going", "-f", "m"]);
    cmd.env("KEY_B", KEY_B)
        .env("KEY_C", KEY_C)
        .env("GITHUB_STEP_SUMMARY", &summary);
    let run = run(&mut cmd);
    assert!(!format!("{run}{}", std::fs::read_to_string(&summary).unwrap()).contains(KEY_C));
    snapshot!(world, "mixed_fleet_apply", run.stdout);
    let markdown = std::fs::read_to_string(&summary).unwrap();
    let stores = "Stores: 3: 1 applied, 1 converged, 1 refused, 0 failed, 0 not started.";
    assert!(markdown.contains(stores), "{markdown}");
    assert!(
        markdown.contains(
            "<details open><summary>⛔ refused: 1</summary>\n\n- `b`: `the plan updates or deletes 4 of 10"
        ),
        "{markdown}"
    );
    assert_eq!(
        run.code, 3,
        "a refused store is exit 3, the others applied all the same\n{run}"
    );
    let report = &run.stdout[run.stdout.find("Plan:").unwrap()..];
    assert!(
        report.find(stores).unwrap() < report.find("  done ").unwrap(),
        "the fleet summary comes first in the report\n{run}"
    );
    assert!(
        report.contains("  a  applied\n  b  refused\n  c  converged\n"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("merchant `b`: the plan updates or deletes 4 of 10 live subscriptions (40%), over the 30% threshold; skipped (`--keep-going`)"),
        "{run}"
    );
    assert_eq!(live_of(&world.sandbox, KEY).len(), 1, "store a was applied");
    assert_eq!(
        live_of(&world.sandbox, KEY_B).len(),
        10,
        "store b was not touched"
    );
    assert_eq!(world.sandbox.counters().stats().delete, 0, "{run}");

    let again = apply(&world, &["--keep-going"]);
    assert_eq!(
        again.code, 3,
        "only the refused store is left: nothing changes\n{again}"
    );

    let forced = apply(&world, &["--force", "--merchant", "b"]);
    assert_eq!(forced.code, 0, "{forced}");
    assert_eq!(live_of(&world.sandbox, KEY_B).len(), 6);
}

#[test]
fn the_json_report_counts_stores_and_lists_the_refused() {
    let world = mixed();
    let json = apply(&world, &["--format", "json", "--keep-going"]);
    assert_eq!(json.code, 3, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(
        doc["stores"],
        serde_json::json!({"total": 3, "changed": 1, "unchanged": 1, "failed": 0, "refused": 1, "not_started": 0})
    );
    assert_eq!(doc["refused"][0]["merchant"], "b");
    assert!(doc["refused"][0]["reason"].as_str().unwrap().contains("4 of 10"));
    assert_eq!(doc["succeeded"], false);
    assert_eq!(
        doc["waves"],
        serde_json::json!([{"index": 1, "gate": "converge", "status": "passed", "failures": [], "merchants": [
            {"merchant": "a", "status": "applied"},
            {"merchant": "b", "status": "refused"},
            {"merchant": "c", "status": "converged"},
        ]}])
    );
}

#[test]
fn when_every_store_with_changes_is_refused_nothing_changes_and_the_exit_is_3() {
    let world = three();
    store(&world, "a", "INVETERATE_API_KEY", "  []\n");
    ten_live(&world, "b", "KEY_B", KEY_B, 6);
    ten_live(&world, "c", "KEY_C", KEY_C, 5);
    let run = apply(&world, &["--keep-going"]);
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains("merchant `b`") && run.stderr.contains("merchant `c`"),
        "{run}"
    );
    assert!(
        !run.stderr.contains("`--keep-going` to apply the other merchants"),
        "no other merchant is left\n{run}"
    );
    assert!(run.stderr.contains("nothing was changed"), "{run}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.post, stats.put, stats.delete), (0, 0, 0), "{run}");
}

#[test]
fn one_stores_400_does_not_stop_the_others_and_the_report_says_so() {
    let world = three();
    store(
        &world,
        "a",
        "INVETERATE_API_KEY",
        &entry("crm", "customer.teleported", "https://a.example/"),
    );
    store(
        &world,
        "b",
        "KEY_B",
        &entry("crm", "customer.updated", "https://b.example/"),
    );
    store(
        &world,
        "c",
        "KEY_C",
        &entry("crm", "customer.updated", "https://c.example/"),
    );
    let run = apply(&world, &["--merchant-parallelism", "1"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains("Stores: 3: 2 applied, 0 converged, 0 refused, 1 failed, 0 not started."),
        "{run}"
    );
    assert!(run.stdout.contains("merchant a\n  failed"), "{run}");
    assert!(run.stdout.contains("400"), "the reason is shown\n{run}");
    assert_eq!(live_of(&world.sandbox, KEY_B).len(), 1, "{run}");
    assert_eq!(live_of(&world.sandbox, KEY_C).len(), 1, "{run}");
    assert!(live_of(&world.sandbox, KEY).is_empty(), "{run}");
}
