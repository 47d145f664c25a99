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
        &["topics", "--help"],
        &["schema", "--help"],
        &["sandbox", "--help"],
        &["demo", "--help"],
    ] {
        let run = world.run(cmd);
        assert_eq!(run.code, 0, "{run}");
        all.push_str(&format!("$ invhooks {}\n{}\n", cmd.join(" "), run.stdout));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn topics_lists_the_fifteen_documented_topics() {
    let run = World::new().run(&["topics"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout.lines().count(), 15);
    insta::assert_snapshot!(run.stdout);
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
        run.stdout.trim_end().ends_with(
            "no changes (8 unchanged, 1 ignored)\n\nNo changes. Live subscriptions match the manifest."
        ),
        "{run}"
    );
    assert!(run.stdout.contains("converged"), "{run}");
}
