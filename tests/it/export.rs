//! `export`: live state as a manifest that plans to no changes.

use crate::support::*;

#[test]
fn export_then_plan_reports_no_changes() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "crm", "https://crm.example/hook"),
        (
            "customer.ordered",
            "odd name: with ${dollar}",
            "https://x.example/a?sig=s3cr3t",
        ),
        ("customer.cancelled", "crm", "https://crm.example/cancel"),
        ("customer.cancelled", "crm", "https://crm.example/cancel"),
    ]);
    let export = world.run(&["export", "--merchant", "acme", "-o", "exported.yaml"]);
    assert_eq!(export.code, 0, "{export}");
    assert!(export.stderr.contains("secret in its URL"), "{export}");
    assert!(export.stderr.contains("duplicate"), "{export}");
    let text = std::fs::read_to_string(world.path("exported.yaml")).unwrap();
    insta::assert_snapshot!(text);
    let plan = world.run(&["plan", "-f", "exported.yaml", "--detailed-exitcode"]);
    // The duplicate left out of the export is the one change.
    assert_eq!(plan.code, 2, "{plan}");
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 0 to update, 1 to delete, 3 unchanged"),
        "{plan}"
    );
}

#[test]
fn export_to_stdout_is_valid_yaml() {
    let world = World::new();
    world.seed(&[("customer.updated", "crm", "https://crm.example/hook")]);
    let run = world.run(&["export"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_saphyr::from_str::<serde_json::Value>(&run.stdout).unwrap();
    assert_eq!(doc["subscriptions"][0]["name"], "crm");
}

/// `export` writes only what `validate` accepts (SPEC "Safety by
/// construction"): live subscriptions a manifest cannot hold are named on
/// stderr and left out, exit 1; `HTTP://` is http (`allowHttp: true`).
#[test]
fn export_writes_only_what_validate_accepts() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "upper", "HTTP://hooks.acme.dev/x"),
        ("customer.updated", "trailing ", "https://hooks.acme.dev/x"),
        ("customer.updated", "cafe\u{301}", "https://hooks.acme.dev/x"),
        ("customer.updated", "space", "https://hooks.acme.dev/a b"),
        ("customer.ordered", "fine", "https://hooks.acme.dev/ok"),
    ]);
    let export = world.run(&["export", "-o", "exported.yaml"]);
    assert_eq!(export.code, 1, "{export}");
    snapshot!(world, export.stderr);
    let validate = world.run(&["validate", "-f", "exported.yaml"]);
    assert_eq!(validate.code, 0, "what export wrote validates:\n{validate}");
    let text = std::fs::read_to_string(world.path("exported.yaml")).unwrap();
    assert!(
        text.contains("allowHttp: true") && text.contains("HTTP://hooks.acme.dev/x"),
        "{text}"
    );
    let stdout = world.run(&["export"]);
    assert_eq!(stdout.code, 1, "{stdout}");
    assert_eq!(stdout.stdout, text, "the same document on stdout");
}
