//! `show PLAN.json`: a saved plan rendered as `plan` renders it, from the
//! file alone: no key in the environment, and an API that cannot be reached.

use crate::netkit::Refusing;
use crate::support::*;

const MANIFEST: &str = "merchant: acme
subscriptions:
  - {name: crm, topic: customer.cancelled, callbackUrl: \"https://crm.example/hook?token=${CRM_TOKEN}\"}
  - {name: erp, topic: customer.updated, callbackUrl: \"https://erp.example/v2\"}
";

/// `show` with no key and a base URL nobody answers on.
fn show(world: &World, args: &[&str]) -> Run {
    let closed = Refusing::new();
    let mut cmd = world.command(args);
    cmd.env_remove("INVETERATE_API_KEY").env(
        "INVETERATE_BASE_URL",
        format!("http://127.0.0.1:{}/v2.0", closed.port()),
    );
    run(&mut cmd)
}

#[test]
fn show_prints_exactly_what_plan_printed_in_every_format() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(MANIFEST));
    world.seed(&[
        ("customer.updated", "erp", "https://erp.example/v1"),
        ("customer.updated", "legacy", "https://old.example/hook"),
    ]);
    let token = [("CRM_TOKEN", "s3cr3t-token")];
    let saved = world.run_env(&["plan", "--out", "plan.json"], &token);
    assert_eq!(saved.code, 0, "{saved}");
    world.sandbox.counters().reset();
    for format in ["text", "json", "markdown"] {
        let plan = world.run_env(&["plan", "--format", format], &token);
        assert_eq!(plan.code, 0, "{plan}");
        let shown = show(&world, &["show", "plan.json", "--format", format]);
        assert_eq!(shown.code, 0, "{shown}");
        assert_eq!(shown.stdout, plan.stdout, "{format}");
        assert!(!shown.stdout.contains("s3cr3t"), "masked as plan masks:\n{shown}");
        assert!(shown.stdout.contains("token=***"), "{shown}");
    }
    assert_eq!(
        world.sandbox.counters().stats().get,
        3,
        "only the three plans read live state"
    );
}

#[test]
fn show_refuses_what_is_not_a_saved_plan_with_advice() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(MANIFEST));
    let token = [("CRM_TOKEN", "t")];
    let output = world.run_env(&["plan", "--format", "json"], &token);
    world.write("output.json", &output.stdout);
    world.write("garbage.json", "not json");
    let mut text = String::new();
    for file in ["missing.json", "output.json", "garbage.json"] {
        let run = show(&world, &["show", file]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        text.push_str(&format!("$ show {file}\n{}\n", run.stderr));
    }
    insta::assert_snapshot!(text);
}
