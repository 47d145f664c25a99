//! Big stores (README "Big stores"): a manifest of thousands of
//! subscriptions is planned with one read of its own key's list, only
//! for the merchants selected, and only once it is valid: an invalid one
//! sends nothing at all.

use crate::support::*;

/// `n` subscriptions as manifest entries and as sandbox seeds.
fn big(n: usize) -> (String, Vec<(String, String, String)>) {
    let subs: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                "customer.updated".to_owned(),
                format!("sync-{i:05}"),
                format!("https://hooks.example.com/inveterate/{i:05}"),
            )
        })
        .collect();
    let entries: String = subs.iter().map(|(t, n, u)| entry(n, t, u)).collect();
    (entries, subs)
}

fn seed(world: &World, key: &str, subs: &[(String, String, String)]) {
    let refs: Vec<(&str, &str, &str)> = subs
        .iter()
        .map(|(t, n, u)| (t.as_str(), n.as_str(), u.as_str()))
        .collect();
    world.sandbox.seed(key, &refs);
}

#[test]
fn a_big_manifest_is_planned_with_one_read_of_its_own_key() {
    let world = World::new();
    let (entries, subs) = big(3500);
    seed(&world, KEY_B, &subs);
    let text = manifest(&format!(
        "merchant: big\napiKeyEnv: KEY_B\nsubscriptions:\n{entries}"
    ));
    world.write("m/big.yaml", &text);
    world.sandbox.counters().reset();
    let run = world.run_env(&["plan", "-f", "m"], &[("KEY_B", KEY_B)]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("No changes"),
        "read with KEY_B's store\n{run}"
    );
    let stats = world.sandbox.counters().stats();
    assert_eq!((stats.get, stats.total), (1, 1), "one read, not two");
}

#[test]
fn only_the_selected_big_manifests_are_read() {
    let world = World::new();
    let (entries, _) = big(3500);
    world.write("m/big.yaml", &manifest(&format!("subscriptions:\n{entries}")));
    world.write(
        "m/small.yaml",
        &manifest(&format!(
            "apiKeyEnv: KEY_B\nsubscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    let run = world.run_env(&["plan", "-f", "m", "--merchant", "small"], &[("KEY_B", KEY_B)]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        world.sandbox.counters().stats().get,
        1,
        "only `small` is read\n{run}"
    );
}

#[test]
fn a_big_manifest_with_problems_sends_nothing() {
    let world = World::new();
    let (entries, _) = big(3500);
    let text = manifest(&format!(
        "subscriptions:\n{entries}{}{}",
        entry("x", "customer.nope", "https://a.example/"),
        entry("y", "customer.updated", "ftp://a.example/")
    ));
    world.write("webhooks.yaml", &text);
    let run = world.run(&["plan"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("2 problems found in the manifest; nothing was sent to the API"),
        "{run}"
    );
    assert_eq!(world.sandbox.counters().stats().total, 0, "not even a read");
}
