//! `apply`: converges, refuses without a TTY, respects ignore / prune /
//! duplicates, never deletes after a failed create, safety thresholds.

use crate::support::*;

#[test]
fn apply_converges_and_the_next_plan_is_empty() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}{}",
            entry("crm", "customer.cancelled", "https://crm.example/new"),
            entry("erp", "customer.updated", "https://erp.example/hook")
        )),
    );
    world.seed(&[
        ("customer.cancelled", "crm", "https://crm.example/old"),
        ("customer.ordered", "stale", "https://stale.example/"),
    ]);
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    snapshot!(world, run.to_string());
    assert_eq!(
        world.live(),
        [
            (
                "customer.cancelled".into(),
                "crm".into(),
                "https://crm.example/new".into()
            ),
            (
                "customer.updated".into(),
                "erp".into(),
                "https://erp.example/hook".into()
            ),
        ]
    );
    let again = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
}

#[test]
fn apply_without_a_terminal_refuses_with_exit_3() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    let run = world.run(&["apply"]);
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("--auto-approve"), "{run}");
    assert!(world.live().is_empty(), "nothing may change");
}

#[test]
fn a_rejected_create_means_no_deletes() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "allowUnknownTopics: true\nsubscriptions:\n{}{}",
            entry("ok", "customer.updated", "https://ok.example/"),
            entry("future", "customer.teleported", "https://future.example/")
        )),
    );
    world.seed(&[("customer.ordered", "old", "https://old.example/")]);
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{run}");
    snapshot!(world, run.stdout);
    let live = world.live();
    assert!(
        live.iter().any(|s| s.1 == "old"),
        "the delete must not run: {live:?}"
    );
    assert!(
        live.iter().any(|s| s.1 == "ok"),
        "the good create happened: {live:?}"
    );
}

#[test]
fn ignored_subscriptions_are_never_touched() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("ignore:\n  - {callbackUrl: \"https://hooks.zapier.com/*\"}\nsubscriptions: []\n"),
    );
    world.seed(&[("customer.updated", "zap", "https://hooks.zapier.com/1")]);
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("1 ignored"), "{run}");
    assert_eq!(world.live().len(), 1);
}

#[test]
fn prune_false_leaves_unmanaged_alone() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "prune: false\nsubscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    world.seed(&[("customer.ordered", "manual", "https://manual.example/")]);
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("unmanaged, kept because `prune: false`"),
        "{run}"
    );
    assert_eq!(world.live().len(), 2);
}

#[test]
fn duplicates_are_reduced_to_one() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    world.seed(&[
        ("customer.updated", "a", "https://a.example/"),
        ("customer.updated", "a", "https://a.example/"),
        ("customer.updated", "a", "https://other.example/"),
    ]);
    let plan = world.run(&["plan"]);
    assert_eq!(plan.stdout.matches("(duplicate)").count(), 2, "{plan}");
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        world.live(),
        [("customer.updated".into(), "a".into(), "https://a.example/".into())]
    );
}

#[test]
fn several_merchants_apply_with_their_own_keys() {
    let world = World::new();
    world.write(
        "m/a.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    world.write(
        "m/b.yaml",
        &manifest(&format!(
            "apiKeyEnv: KEY_B\nsubscriptions:\n{}",
            entry("b", "customer.ordered", "https://b.example/")
        )),
    );
    let run = world.run_env(&["apply", "--auto-approve", "-f", "m"], &[("KEY_B", KEY_B)]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        world.live(),
        [("customer.updated".into(), "a".into(), "https://a.example/".into())]
    );
    assert_eq!(
        live_of(&world.sandbox, KEY_B),
        [("customer.ordered".into(), "b".into(), "https://b.example/".into())]
    );
}

#[test]
fn safety_threshold_refuses_with_exit_3_unless_forced() {
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
        .map(|i| entry(&format!("n{i}"), "customer.updated", "https://a.example/"))
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{keep}")));
    let refused = world.run(&["apply", "--auto-approve"]);
    assert_eq!(refused.code, 3, "{refused}");
    assert!(refused.stderr.contains("4 of 10"), "{refused}");
    assert_eq!(world.live().len(), 10, "nothing may change");
    let forced = world.run(&["apply", "--auto-approve", "--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    assert_eq!(world.live().len(), 6);
}
