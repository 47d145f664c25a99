//! `plan`: text, JSON and Markdown output, detailed exit codes, one GET.

use crate::support::*;

const MANIFEST: &str = "merchant: acme
ignore:
  - name: \"zapier-*\"
subscriptions:
  - name: crm
    topics: [customer.cancelled, customer.pending_cancellation]
    callbackUrl: https://crm.example/hook?token=${CRM_TOKEN}
  - name: erp
    topic: customer.updated
    callbackUrl: https://erp.example/v2/inveterate
  - name: warehouse
    topic: customer.ordered
    callbackUrl: https://ingest.example/orders
";

fn drifted() -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(MANIFEST));
    world.seed(&[
        (
            "customer.cancelled",
            "crm",
            "https://crm.example/hook?token=s3cr3t",
        ),
        ("customer.updated", "erp", "https://erp.example/v1/inveterate"),
        ("customer.ordered", "warehouse", "https://ingest.example/orders"),
        ("customer.ordered", "warehouse", "https://ingest.example/orders"),
        ("customer.updated", "legacy", "https://old.example/hook"),
        ("customer.updated", "zapier-1", "https://hooks.zapier.com/1"),
    ]);
    world
}

const TOKEN: (&str, &str) = ("CRM_TOKEN", "s3cr3t");

#[test]
fn text_plan_shows_every_kind_of_change() {
    let world = drifted();
    let run = world.run_env(&["plan"], &[TOKEN]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stdout.contains("s3cr3t"), "secret in output:\n{run}");
    insta::assert_snapshot!(run.to_string());
}

#[test]
fn json_plan_has_the_documented_keys() {
    let world = drifted();
    let run = world.run_env(&["plan", "--format", "json"], &[TOKEN]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["format_version"], "1");
    let m = &doc["merchants"][0];
    for key in ["create", "update", "delete", "unchanged", "ignored", "unmanaged"] {
        assert!(m["summary"][key].is_u64(), "summary.{key}");
    }
    for change in m["changes"].as_array().unwrap() {
        for key in ["action", "topic", "name", "id", "before", "after", "duplicate"] {
            assert!(change.get(key).is_some(), "change.{key}");
        }
    }
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn markdown_plan_for_pull_requests() {
    let world = drifted();
    let run = world.run_env(&["plan", "--format", "markdown"], &[TOKEN]);
    assert_eq!(run.code, 0, "{run}");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn plan_makes_exactly_one_get_and_no_writes() {
    let world = drifted();
    world.sandbox.counters().reset();
    let run = world.run_env(&["plan"], &[TOKEN]);
    assert_eq!(run.code, 0, "{run}");
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.get, stats.post, stats.put, stats.delete), (1, 0, 0, 0));
}

#[test]
fn detailed_exitcode_is_2_with_changes_and_0_without() {
    let world = drifted();
    assert_eq!(world.run_env(&["plan", "--detailed-exitcode"], &[TOKEN]).code, 2);
    let apply = world.run_env(&["apply", "--auto-approve"], &[TOKEN]);
    assert_eq!(apply.code, 0, "{apply}");
    let again = world.run_env(&["plan", "--detailed-exitcode"], &[TOKEN]);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        again
            .stdout
            .contains("No changes. Live subscriptions match the manifest."),
        "{again}"
    );
}

#[test]
fn a_secret_change_reads_as_a_changed_secret() {
    let world = drifted();
    let run = world.run_env(&["plan"], &[("CRM_TOKEN", "rotated")]);
    assert!(run.stdout.contains("(secret in URL changed)"), "{run}");
    assert!(!run.stdout.contains("rotated"), "{run}");
}

#[test]
fn several_merchants_plan_together_sorted_by_label() {
    let world = World::new();
    world.write("m/b.yaml", &manifest("merchant: beta\napiKeyEnv: KEY_B\nsubscriptions:\n  - {name: n, topic: customer.updated, callbackUrl: https://b.example/}\n"));
    world.write("m/a.yaml", &manifest("merchant: alpha\nsubscriptions:\n  - {name: n, topic: customer.updated, callbackUrl: https://a.example/}\n"));
    world
        .sandbox
        .seed(KEY_B, &[("customer.updated", "n", "https://b.example/")]);
    let run = world.run_env(&["plan", "-f", "m"], &[("KEY_B", KEY_B)]);
    assert_eq!(run.code, 0, "{run}");
    insta::assert_snapshot!(run.to_string());
}

#[test]
fn safety_warning_is_shown_but_plan_succeeds() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    world.seed(&[("customer.updated", "a", "https://a.example/")]);
    let run = world.run(&["plan"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("warning: the manifest declares no subscriptions"),
        "{run}"
    );
}

#[test]
fn control_characters_from_the_server_are_shown_escaped() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    world.seed(&[(
        "customer.updated",
        "evil\n::error file=x::forged\u{1b}[2J\u{202e}",
        "https://a.example/\u{1b}]8;;x",
    )]);
    for format in ["text", "markdown"] {
        let run = world.run(&["plan", "--format", format]);
        assert_eq!(run.code, 0, "{run}");
        assert!(
            !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{202e}'),
            "{run}"
        );
        assert!(
            !run.stdout.contains("\n::error"),
            "a workflow command was forged:\n{run}"
        );
        assert!(run.stdout.contains("evil\\n::error"), "{run}");
    }
    let drift = world.run(&["drift"]);
    assert!(
        !drift.stdout.contains('\u{1b}') && !drift.stdout.contains("\n::error"),
        "{drift}"
    );
}
