//! The command line itself: help, topics, schema, usage errors, demo.

use crate::support::*;

#[test]
fn help_of_every_command() {
    let world = World::new();
    let mut all = String::new();
    for cmd in [
        &["--help"][..],
        &["plan", "--help"],
        &["apply", "--help"],
        &["drift", "--help"],
        &["validate", "--help"],
        &["export", "--help"],
        &["doctor", "--help"],
        &["topics", "--help"],
        &["schema", "--help"],
        &["sandbox", "--help"],
        &["demo", "--help"],
        &["init", "--help"],
        &["completions", "--help"],
    ] {
        let run = world.run(cmd);
        assert_eq!(run.code, 0, "{run}");
        all.push_str(&format!("$ invhooks {}\n{}\n", cmd.join(" "), run.stdout));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn help_of_plan_apply_and_drift_ends_with_their_exit_codes() {
    let world = World::new();
    for (command, last) in [
        ("plan", "  2  with --detailed-exitcode: changes present"),
        ("apply", "     was refused and the others were applied"),
        ("drift", "  2  drift: live differs from the manifest"),
    ] {
        for help in ["-h", "--help"] {
            let run = world.run(&[command, help]);
            assert_eq!(run.code, 0, "{run}");
            let (_, codes) = run
                .stdout
                .rsplit_once("Exit codes:\n")
                .unwrap_or_else(|| panic!("`{command} {help}` has no exit codes:\n{run}"));
            assert_eq!(codes.trim_end().lines().last(), Some(last), "{run}");
            assert!(codes.starts_with("  0  "), "{run}");
        }
    }
}

#[test]
fn topics_lists_the_fifteen_documented_topics() {
    let run = World::new().run(&["topics"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout.lines().count(), 15);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn topics_as_json_lists_the_same_topics() {
    let world = World::new();
    let text = world.run(&["topics"]);
    let run = world.run(&["topics", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["format_version"], "1");
    let topics = doc["topics"].as_array().unwrap();
    let names: Vec<&str> = topics.iter().map(|t| t["topic"].as_str().unwrap()).collect();
    let listed: Vec<&str> = text
        .stdout
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, listed);
    assert!(topics
        .iter()
        .all(|t| !t["description"].as_str().unwrap().is_empty()));
    let run = world.run(&["topics", "--format", "markdown"]);
    assert_eq!(run.code, 1, "text or json only:\n{run}");
}

#[test]
fn schema_is_json_schema_of_the_manifest() {
    let run = World::new().run(&["schema"]);
    assert_eq!(run.code, 0, "{run}");
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(schema["properties"]["subscriptions"].is_object(), "{schema}");
    assert!(schema["properties"]["apiKeyEnv"].is_object(), "{schema}");
}

#[test]
fn usage_errors_exit_1_not_2() {
    let run = World::new().run(&["plan", "--no-such-flag"]);
    assert_eq!(run.code, 1, "{run}");
}

#[test]
fn demo_runs_end_to_end_and_ends_with_no_changes() {
    let run = World::new().run(&["demo"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains(
            "no changes (8 unchanged, 1 ignored)\n\nNo changes. Live subscriptions match the manifest.\n\nNext,"
        ),
        "{run}"
    );
    assert!(run.stdout.contains("converged"), "{run}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let world = World::new();
    world.write("webhooks.yaml", "version: 1\nsubscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/new\"}\n");
    world.seed(&[("customer.updated", "a", "https://a.example/old")]);
    let plain = world.run(&["plan"]);
    assert!(
        !plain.stdout.contains('\x1b'),
        "no colour without a terminal:\n{plain}"
    );
    let always = world.run(&["plan", "--color", "always"]);
    assert!(always.stdout.contains("\x1b["), "{always}");
    let never = world.run_env(&["plan", "--color", "never"], &[("NO_COLOR", "1")]);
    assert!(!never.stdout.contains('\x1b'), "{never}");
}

#[test]
fn verbose_logs_requests_and_bodies_but_never_the_key() {
    let world = World::new();
    world.write("webhooks.yaml", "version: 1\nsubscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://u:pw@a.example/?t=tok\"}\n");
    // `run` fails the test if the key appears anywhere in the output.
    let run = world.run(&["-vv", "apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("GET http://127.0.0.1:"), "{run}");
    assert!(run.stderr.contains("POST body:"), "{run}");
    assert!(
        !run.stderr.contains("pw@") && !run.stderr.contains("tok"),
        "URL secrets in logs:\n{run}"
    );
}
