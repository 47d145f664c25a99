//! Saved plans: `plan --out` then `apply --plan`, fresh, stale, corrupt,
//! and the rules every apply keeps (safety thresholds, confirmation).

use crate::support::*;

const MANIFEST: &str = "merchant: acme
subscriptions:
  - {name: crm, topic: customer.cancelled, callbackUrl: \"https://crm.example/hook?token=${CRM_TOKEN}\"}
  - {name: erp, topic: customer.updated, callbackUrl: \"https://erp.example/v2\"}
  - {name: warehouse, topic: customer.ordered, callbackUrl: \"https://ingest.example/orders\"}
";

const TOKEN: (&str, &str) = ("CRM_TOKEN", "s3cr3t-token");

/// A drifted merchant: a create, an update, a delete and an unchanged one.
fn drifted() -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(MANIFEST));
    world.seed(&[
        ("customer.updated", "erp", "https://erp.example/v1"),
        ("customer.ordered", "warehouse", "https://ingest.example/orders"),
        ("customer.updated", "legacy", "https://old.example/hook"),
    ]);
    world
}

fn writes(world: &World) -> (u64, u64, u64) {
    let s = world.sandbox.counters().stats();
    (s.post, s.put, s.delete)
}

#[test]
fn plan_out_then_apply_plan_applies_exactly_the_saved_changes() {
    let world = drifted();
    let plan = world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(plan.stderr.contains("saved the plan to plan.json"), "{plan}");
    assert!(!plan.stdout.contains("s3cr3t"), "stdout stays masked:\n{plan}");

    let text = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert!(text.contains("s3cr3t-token"), "the plan file keeps real values");
    assert!(!text.contains(KEY), "never the API key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.path("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "plan files are private");
    }
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["kind"], "invhooks-saved-plan");
    assert_eq!(doc["format_version"], "2");
    assert_eq!(doc["tool_version"], invhooks::VERSION);
    assert_eq!(doc["merchants"][0]["api_key_env"], "INVETERATE_API_KEY");
    snapshot!(world, "saved_plan_file", text);

    // The manifest changes after the plan was reviewed: `apply --plan`
    // applies what was saved, not the new manifest, and needs no `${VAR}`.
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    world.sandbox.counters().reset();
    let apply = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert_eq!(writes(&world), (1, 1, 1), "one create, one update, one delete");
    assert_eq!(
        world.live(),
        [
            (
                "customer.cancelled".into(),
                "crm".into(),
                "https://crm.example/hook?token=s3cr3t-token".into()
            ),
            (
                "customer.ordered".into(),
                "warehouse".into(),
                "https://ingest.example/orders".into()
            ),
            (
                "customer.updated".into(),
                "erp".into(),
                "https://erp.example/v2".into()
            ),
        ]
    );
    snapshot!(world, apply.to_string());
}

#[test]
fn a_stale_plan_is_refused_with_exit_3_and_changes_nothing() {
    let world = drifted();
    assert_eq!(world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]).code, 0);
    // Someone changes production by hand after the plan was saved.
    world.seed(&[(
        "customer.payment_failed",
        "manual",
        "https://manual.example/?key=abc",
    )]);
    let before = world.live();
    world.sandbox.counters().reset();
    let run = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(run.code, 3, "{run}");
    assert_eq!(writes(&world), (0, 0, 0), "nothing may be written");
    assert_eq!(world.live(), before);
    assert!(!run.stderr.contains("key=abc"), "URLs stay masked:\n{run}");
    snapshot!(world, run.to_string());
}

#[test]
fn corrupt_truncated_foreign_and_future_plan_files_exit_1() {
    let world = drifted();
    assert_eq!(world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]).code, 0);
    let text = std::fs::read_to_string(world.path("plan.json")).unwrap();
    let json_output = world.run_env(&["plan", "--format", "json"], &[TOKEN]).stdout;
    let cases = [
        (
            "truncated.json",
            text[..text.find("\"live\"").unwrap()].to_owned(),
            "is not valid JSON",
        ),
        (
            "garbage.json",
            "\u{1}\u{2}not a plan".to_owned(),
            "is not valid JSON",
        ),
        (
            "foreign.json",
            "{\"terraform_version\": \"1.9.0\"}".to_owned(),
            "is not an invhooks saved plan",
        ),
        (
            "output.json",
            json_output,
            "output of `invhooks plan --format json`",
        ),
        (
            "future.json",
            text.replacen("\"format_version\": \"2\"", "\"format_version\": \"7\"", 1),
            "format_version \"7\"",
        ),
        (
            "edited.json",
            text.replace("https://old.example/hook", "https://old.example/other"),
            "is inconsistent",
        ),
    ];
    world.sandbox.counters().reset();
    let mut all = String::new();
    for (file, content, expected) in cases {
        world.write(file, &content);
        let run = world.run(&["apply", "--plan", file, "--auto-approve"]);
        assert_eq!(run.code, 1, "{file}: {run}");
        assert!(run.stderr.contains(expected), "{file}: {run}");
        all.push_str(&format!("$ invhooks apply --plan {file}\n{}\n", run.stderr));
    }
    let missing = world.run(&["apply", "--plan", "missing.json", "--auto-approve"]);
    assert_eq!(missing.code, 1, "{missing}");
    all.push_str(&format!(
        "$ invhooks apply --plan missing.json\n{}",
        missing.stderr
    ));
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "a bad plan file sends nothing"
    );
    snapshot!(world, all);
}

#[test]
fn apply_plan_keeps_the_safety_threshold_and_the_terminal_rule() {
    let world = World::new();
    let seeds: Vec<(String, String, String)> = (0..10)
        .map(|i| {
            (
                "customer.updated".to_owned(),
                format!("n{i}"),
                "https://a.example/".to_owned(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = seeds
        .iter()
        .map(|(t, n, u)| (t.as_str(), n.as_str(), u.as_str()))
        .collect();
    world.seed(&refs);
    let keep: String = (0..6)
        .map(|i| {
            format!("  - {{name: n{i}, topic: customer.updated, callbackUrl: \"https://a.example/\"}}\n")
        })
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{keep}")));
    let plan = world.run(&["plan", "--out", "plan.json"]);
    assert!(
        plan.stdout.contains("`apply` will refuse without `--force`"),
        "{plan}"
    );

    let no_tty = world.run(&["apply", "--plan", "plan.json"]);
    assert_eq!(no_tty.code, 3, "{no_tty}");
    assert!(no_tty.stderr.contains("safety threshold"), "{no_tty}");
    let refused = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(refused.code, 3, "{refused}");
    assert!(refused.stderr.contains("4 of 10"), "{refused}");
    let unconfirmed = world.run(&["apply", "--plan", "plan.json", "--force"]);
    assert_eq!(unconfirmed.code, 3, "{unconfirmed}");
    assert!(unconfirmed.stderr.contains("--auto-approve"), "{unconfirmed}");
    assert_eq!(world.live().len(), 10, "nothing may change");

    let forced = world.run(&["apply", "--plan", "plan.json", "--auto-approve", "--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    assert_eq!(world.live().len(), 6);
}

#[test]
fn apply_plan_refuses_another_base_url() {
    let world = drifted();
    assert_eq!(world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]).code, 0);
    let other = format!("http://localhost:{}/v2.0/", world.sandbox.addr().port());
    let run = world.run_env(
        &["apply", "--plan", "plan.json", "--auto-approve"],
        &[("INVETERATE_BASE_URL", &other)],
    );
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("was computed against"), "{run}");
    assert_eq!(world.sandbox.counters().stats().post, 0);
}

#[test]
fn a_saved_plan_names_each_merchants_key_variable_and_needs_it() {
    let world = World::new();
    world.write(
        "m/a.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    world.write(
        "m/b.yaml",
        &manifest("apiKeyEnv: KEY_B\nsubscriptions:\n  - {name: b, topic: customer.ordered, callbackUrl: \"https://b.example/\"}\n"),
    );
    let plan = world.run_env(&["plan", "-f", "m", "--out", "plan.json"], &[("KEY_B", KEY_B)]);
    assert_eq!(plan.code, 0, "{plan}");
    let text = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert!(text.contains("\"api_key_env\": \"KEY_B\""), "{text}");
    assert!(!text.contains(KEY_B), "never a key value");

    let without = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(without.code, 1, "{without}");
    assert!(without.stderr.contains("`KEY_B` is not set"), "{without}");
    assert!(
        world.live().is_empty(),
        "no merchant is applied when one key is missing"
    );

    let with = world.run_env(
        &["apply", "--plan", "plan.json", "--auto-approve"],
        &[("KEY_B", KEY_B)],
    );
    assert_eq!(with.code, 0, "{with}");
    assert_eq!(live_of(&world.sandbox, KEY_B).len(), 1);
}

#[test]
fn plan_and_file_flags_do_not_mix() {
    let world = drifted();
    let run = world.run(&["apply", "--plan", "plan.json", "-f", "webhooks.yaml"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("cannot be used with"), "{run}");
}

#[test]
fn a_fresh_plan_without_changes_applies_nothing() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    world.seed(&[("customer.updated", "a", "https://a.example/")]);
    assert_eq!(world.run(&["plan", "--out", "plan.json"]).code, 0);
    let run = world.run(&["apply", "--plan", "plan.json"]);
    assert_eq!(run.code, 0, "no changes needs no confirmation:\n{run}");
    assert!(run.stdout.contains("No changes."), "{run}");
}

/// `apply --plan` checks the saved entries as `validate` would (SPEC
/// "Safety by construction"): a consistent hand edit to plain http on
/// another host is refused before any request.
#[test]
fn a_hand_edited_plan_is_checked_like_a_manifest() {
    let world = drifted();
    let saved = world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]);
    assert_eq!(saved.code, 0, "{saved}");
    let text = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert!(text.matches("https://erp.example/v2").count() >= 2, "{text}");
    world.write(
        "plan.json",
        &text.replace("https://erp.example/v2", "http://evil.example/x"),
    );
    world.sandbox.counters().reset();
    let run = world.run_env(&["apply", "--plan", "plan.json", "--auto-approve"], &[TOKEN]);
    assert_eq!(run.code, 1, "{run}");
    snapshot!(world, run.stderr);
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );
}

/// `plan --out` replaces a saved plan, never another file (SPEC "Output"),
/// and no advice suggests otherwise.
#[test]
fn plan_out_never_replaces_a_file_that_is_not_a_saved_plan() {
    let world = drifted();
    let before = std::fs::read_to_string(world.path("webhooks.yaml")).unwrap();
    world.sandbox.counters().reset();
    let run = world.run_env(&["plan", "--out", "webhooks.yaml"], &[TOKEN]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        std::fs::read_to_string(world.path("webhooks.yaml")).unwrap(),
        before
    );
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );
    let show = world.run(&["show", "webhooks.yaml"]);
    assert_eq!(show.code, 1, "{show}");
    assert!(!show.stderr.contains("--out webhooks.yaml"), "{show}");
    let apply = world.run_env(&["apply", "--plan", "webhooks.yaml"], &[TOKEN]);
    assert!(!apply.stderr.contains("--out webhooks.yaml"), "{apply}");
    snapshot!(
        world,
        format!("$ plan --out webhooks.yaml\n{run}\n$ show webhooks.yaml\n{show}")
    );

    let first = world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]);
    let again = world.run_env(&["plan", "--out", "plan.json"], &[TOKEN]);
    assert_eq!(
        (first.code, again.code),
        (0, 0),
        "a saved plan is replaced:\n{again}"
    );
}
