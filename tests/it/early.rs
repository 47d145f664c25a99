//! Big stores (README "Big stores"): a manifest of at least
//! `EARLY_BYTES` has its live list read while it is validated, with the
//! key and label its validated form names, honouring the selection, once.

use invhooks::manifest::early::EARLY_BYTES;

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
    assert!(text.len() as u64 >= EARLY_BYTES, "{}", text.len());
    world.write("m/big.yaml", &text);
    world.sandbox.reset_stats();
    let run = world.run_env(&["plan", "-f", "m"], &[("KEY_B", KEY_B)]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("No changes"),
        "read with KEY_B's store\n{run}"
    );
    let stats = world.sandbox.stats();
    assert_eq!((stats.get, stats.total), (1, 1), "one read, not two");
}

#[test]
fn the_selection_decides_which_big_manifests_are_read_early() {
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
    assert_eq!(world.sandbox.stats().get, 1, "only `small` is read\n{run}");
}

#[test]
fn a_big_manifest_with_problems_writes_nothing_and_says_what_was_read() {
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
        run.stderr.contains("2 problems found in the manifest; nothing was written (a large manifest's live list was read while it was validated)"),
        "{run}"
    );
    let stats = world.sandbox.stats();
    assert_eq!(stats.total, stats.get, "reads only");
    assert!(stats.get <= 1);
}
