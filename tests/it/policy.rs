//! `--policy FILE` / `INVHOOKS_POLICY`: a callback host the policy does
//! not allow stops validate, plan, apply (from files or a saved plan),
//! drift and check before any request; `safety:` replaces the thresholds.

use crate::support::*;

const POLICY: &str = "version: 1\nallowedCallbackHosts: [\"*.acme.dev\"]\n";

const MANIFEST: &str = "merchant: acme
subscriptions:
  - {name: crm, topic: customer.cancelled, callbackUrl: \"https://hooks.acme.dev/in\"}
  - {name: leak, topic: customer.updated, callbackUrl: \"https://hooks.acme.dev@collector.evil.example/x\"}
";

fn writes(world: &World) -> (u64, u64, u64) {
    let s = world.sandbox.counters().stats();
    (s.post, s.put, s.delete)
}

fn world() -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(MANIFEST));
    world.write("policy/callbacks.yaml", POLICY);
    world.seed(&[("customer.ordered", "old", "https://hooks.acme.dev/old")]);
    world
}

#[test]
fn a_host_outside_the_policy_stops_every_command_before_any_request() {
    let world = world();
    let expected = "error: webhooks.yaml:5: callback host `collector.evil.example` of `leak` (`customer.updated`) is not allowed by policy `policy/callbacks.yaml` (allowedCallbackHosts: `*.acme.dev`)";
    for args in [
        &["validate"][..],
        &["plan"],
        &["apply", "--auto-approve"],
        &["drift"],
        &["check"],
    ] {
        let mut with_flag = args.to_vec();
        with_flag.extend(["--policy", "policy/callbacks.yaml"]);
        let run = world.run(&with_flag);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(run.stderr.starts_with(expected), "{args:?}: {run}");
        assert!(
            run.stderr.contains("ask the owners of `policy/callbacks.yaml`"),
            "{run}"
        );
        let run = world.run_env(args, &[("INVHOOKS_POLICY", "policy/callbacks.yaml")]);
        assert_eq!(run.code, 1, "{args:?} with INVHOOKS_POLICY: {run}");
        assert!(run.stderr.starts_with(expected), "{run}");
    }
    assert_eq!(world.sandbox.counters().stats().total, 0, "not even a GET");
    let without = world.run(&["validate"]);
    assert_eq!(without.code, 0, "no policy, no host rule:\n{without}");
}

#[test]
fn a_saved_plan_is_held_to_the_policy_of_the_run_that_applies_it() {
    let world = world();
    let saved = world.run(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved}");
    world.sandbox.counters().reset();
    let run = world.run(&[
        "apply",
        "--plan",
        "plan.json",
        "--auto-approve",
        "--policy",
        "policy/callbacks.yaml",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("callback host `collector.evil.example` of `leak` (`customer.updated`) is not allowed"),
        "{run}"
    );
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );
}

#[test]
fn policy_safety_thresholds_replace_the_built_in_ones() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: crm, topic: customer.cancelled, callbackUrl: \"https://hooks.acme.dev/in\"}\n"),
    );
    world.write("policy.yaml", "version: 1\nsafety: { maxDeletes: 1 }\n");
    world.seed(&[
        ("customer.ordered", "a", "https://hooks.acme.dev/a"),
        ("customer.ordered", "b", "https://hooks.acme.dev/b"),
    ]);
    let plain = world.run(&["apply", "--auto-approve"]);
    assert_eq!(plain.code, 0, "the built-in thresholds allow it:\n{plain}");

    world.seed(&[
        ("customer.ordered", "a", "https://hooks.acme.dev/a"),
        ("customer.ordered", "b", "https://hooks.acme.dev/b"),
    ]);
    let plan = world.run(&["plan", "--policy", "policy.yaml"]);
    assert_eq!(plan.code, 0, "a plan is never blocked:\n{plan}");
    assert!(
        plan.stdout.contains("over the policy's `maxDeletes: 1`"),
        "{plan}"
    );
    world.sandbox.counters().reset();
    let refused = world.run(&["apply", "--auto-approve", "--policy", "policy.yaml"]);
    assert_eq!(refused.code, 3, "{refused}");
    assert!(
        refused
            .stderr
            .contains("the plan deletes 2 subscriptions, over the policy's `maxDeletes: 1`"),
        "{refused}"
    );
    assert_eq!(writes(&world), (0, 0, 0), "nothing written");
}

#[test]
fn policy_file_problems_name_the_file_and_line() {
    let world = world();
    world.write(
        "bad.yaml",
        "version: 1\nsafety:\n  maxDelete: 3\nallowedHosts: []\n",
    );
    world.write(
        "glob.yaml",
        "version: 1\nallowedCallbackHosts:\n  - \"hooks.[acme.dev\"\n",
    );
    let mut shown = String::new();
    for file in ["bad.yaml", "glob.yaml", "missing.yaml"] {
        let run = world.run(&["validate", "--policy", file]);
        assert_eq!(run.code, 1, "{run}");
        shown.push_str(&format!("$ validate --policy {file}\n{}\n", run.stderr));
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn a_policy_file_with_problems_stops_every_command_and_validate_json_lists_them() {
    let world = world();
    let saved = world.run(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved}");
    world.sandbox.counters().reset();
    world.write("bad.yaml", "version: 1\nsafety:\n  maxDelete: 3\n");
    let expected = "error: bad.yaml:3: unknown field `maxDelete` in policy `safety`\n  help: did you mean `maxDeletes`?\nthe policy file has problems; nothing was sent to the API";
    for args in [
        &["validate"][..],
        &["plan"],
        &["apply", "--auto-approve"],
        &["apply", "--plan", "plan.json", "--auto-approve"],
        &["drift"],
        &["check"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--policy", "bad.yaml"]);
        let run = world.run(&args);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert_eq!(run.stderr.trim_end(), expected, "{args:?}: {run}");
    }
    assert_eq!(world.sandbox.counters().stats().total, 0, "not even a GET");
    // Before the saved plan's own checks (here: made for another base URL).
    let elsewhere =
        "apply --plan plan.json --auto-approve --policy bad.yaml --base-url http://127.0.0.2:9/v2.0";
    let run = world.run(&elsewhere.split(' ').collect::<Vec<_>>());
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.stderr.trim_end(), expected, "{run}");

    let run = world.run(&["validate", "--policy", "bad.yaml", "--format", "json"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.stderr, "", "{run}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["ok"], false, "{run}");
    assert_eq!(report["merchants"], serde_json::json!([]), "{run}");
    let problem = &report["problems"][0];
    assert_eq!(
        (&problem["file"], &problem["line"]),
        (&"bad.yaml".into(), &3.into()),
        "{run}"
    );
    assert_eq!(
        problem["message"], "unknown field `maxDelete` in policy `safety`",
        "{run}"
    );
}

/// A policy of `count` globs, one per store, as an agency writes it.
fn agency_policy(count: usize) -> String {
    let mut text = String::from("version: 1\nallowedCallbackHosts:\n");
    for i in 0..count {
        text.push_str(&format!("  - \"*.store{i:05}.agency-hooks.example\"\n"));
    }
    text
}

#[test]
fn a_policy_of_twenty_thousand_globs_is_enforced_not_dropped() {
    let world = World::new();
    world.write("policy.yaml", &agency_policy(20_000));
    let mut body = String::from("merchant: acme\nsubscriptions:\n");
    for i in [0, 6_000, 19_999] {
        body.push_str(&entry(
            &format!("s{i}"),
            "customer.updated",
            &format!("https://in.store{i:05}.agency-hooks.example/x"),
        ));
    }
    world.write("webhooks.yaml", &manifest(&body));
    let ok = world.run(&["validate", "--policy", "policy.yaml"]);
    assert_eq!(ok.code, 0, "{ok}");

    body.push_str("  - {name: evil, topics: [customer.cancelled, customer.updated], callbackUrl: \"https://attacker.example/x\"}\n");
    world.write("webhooks.yaml", &manifest(&body));
    for args in [&["validate"][..], &["plan"]] {
        let mut args = args.to_vec();
        args.extend(["--policy", "policy.yaml"]);
        let run = world.run(&args);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.len() < 1_000, "{} bytes:\n{run}", run.stderr.len());
        assert_eq!(
            run.stderr.matches("callback host").count(),
            1,
            "once for both topics:\n{run}"
        );
        snapshot!(world, run.stderr);
    }
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );
}

#[test]
fn a_policy_that_cannot_be_compiled_is_an_error_not_an_open_policy() {
    let world = world();
    let long = "a".repeat(2_000);
    world.write(
        "long.yaml",
        &format!("version: 1\nallowedCallbackHosts: [\"*.acme.dev\", \"{long}\"]\n"),
    );
    for args in [&["validate"][..], &["plan"]] {
        let mut args = args.to_vec();
        args.extend(["--policy", "long.yaml"]);
        let run = world.run(&args);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.starts_with("error: long.yaml:2: `aaaa"), "{run}");
        assert!(
            run.stderr
                .contains("is not a valid glob: longer than 1024 characters"),
            "{run}"
        );
    }
    assert_eq!(world.sandbox.counters().stats().total, 0);
}
