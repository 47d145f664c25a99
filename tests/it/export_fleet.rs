//! `export --store LABEL=VAR` (README.md "Export a fleet"): three stores
//! into one fleet file that plans to no changes for every one of them;
//! stores that cannot share one list refused with each difference named;
//! bad flag combinations refused before any request.

use crate::support::*;

/// The key of the third store (the sandbox learns it when seeded).
const KEY_C: &str = "test-key-c-5ecr3t";

const KEYS: &[(&str, &str)] = &[
    ("KEY_STORE_A", KEY),
    ("KEY_STORE_B", KEY_B),
    ("KEY_STORE_C", KEY_C),
];

const EXPORT: &[&str] = &[
    "export",
    "--store",
    "store-c=KEY_STORE_C",
    "--store",
    "store-a=KEY_STORE_A",
    "--store",
    "store-b=KEY_STORE_B",
    "-o",
    "fleet.yaml",
];

/// Seeds a store with what every store of the fleet has: one shared
/// receiver, one URL with the label in it, one on the store's own host.
fn seed(world: &World, key: &str, label: &str, host: &str) {
    world.sandbox.seed(
        key,
        &[
            (
                "customer.updated",
                "zapier",
                "https://hooks.zapier.com/hooks/catch/1/abc/",
            ),
            (
                "customer.cancelled",
                "crm",
                &format!("https://crm.agency.dev/inveterate/{label}/cancel"),
            ),
            (
                "customer.joined.paid_tier",
                "erp",
                &format!("https://{host}/webhooks/paid"),
            ),
        ],
    );
}

/// A world with the three stores seeded.
fn three() -> World {
    let world = World::new();
    seed(&world, KEY, "store-a", "erp.store-a.example");
    seed(&world, KEY_B, "store-b", "b-shop.example.org");
    seed(&world, KEY_C, "store-c", "erp-c.example.net");
    world
}

fn run(world: &World, args: &[&str]) -> Run {
    let run = world.run_env(args, KEYS);
    assert!(
        !run.stdout.contains(KEY_C) && !run.stderr.contains(KEY_C),
        "API key leaked:\n{run}"
    );
    run
}

#[test]
fn three_stores_export_to_one_fleet_file_that_plans_no_changes_for_each() {
    let world = three();
    world.sandbox.counters().reset();
    let export = run(&world, EXPORT);
    assert_eq!(export.code, 0, "{export}");
    assert!(
        export
            .stderr
            .contains("wrote 3 subscription(s) for 3 merchant(s) to `fleet.yaml` (mode 0600"),
        "{export}"
    );
    let stats = world.sandbox.counters().stats();
    assert_eq!(
        (stats.get, stats.total),
        (3, 3),
        "one GET per store, nothing else"
    );
    let text = std::fs::read_to_string(world.path("fleet.yaml")).unwrap();
    snapshot!(world, text);
    assert!(!text.contains(KEY) && !text.contains(KEY_B) && !text.contains(KEY_C));

    let plan = run(&world, &["plan", "-f", "fleet.yaml", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    for store in ["store-a", "store-b", "store-c"] {
        assert!(plan.stdout.contains(store), "{plan}");
    }
    assert!(plan.stdout.contains("No changes"), "{plan}");
    let drift = run(&world, &["drift", "-f", "fleet.yaml"]);
    assert_eq!(drift.code, 0, "drift sees every store in sync: {drift}");
}

#[test]
fn stores_that_cannot_share_one_list_are_refused_naming_each_difference() {
    let world = three();
    world.sandbox.seed(
        KEY_B,
        &[
            ("customer.ordered", "extra", "https://x.example/"),
            ("customer.refunded", "other", "https://b.example/two/parts"),
        ],
    );
    world
        .sandbox
        .seed(KEY_C, &[("customer.refunded", "other", "https://a.example/one")]);
    world.sandbox.seed(
        KEY,
        &[("customer.refunded", "other", "https://b.example/two/parts")],
    );
    let refused = run(&world, EXPORT);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(!world.path("fleet.yaml").exists(), "nothing written");
    snapshot!(world, refused.to_string());
}

#[test]
fn bad_store_flags_are_refused_before_any_request() {
    let world = three();
    world.sandbox.counters().reset();
    let mut out = String::new();
    for args in [
        &["export", "--store", "store-a"][..],
        &["export", "--store", "store-a=1KEY"],
        &["export", "--store", "=KEY_STORE_A"],
        &["export", "--store", "store-a=KEY_STORE_A", "--merchant", "acme"],
        &[
            "export",
            "--store",
            "store-a=KEY_STORE_A",
            "--api-key-env",
            "KEY_STORE_B",
        ],
        &["export", "--store", "a=KEY_STORE_A", "--store", "a=KEY_STORE_B"],
        &["export", "--store", "a=KEY_STORE_A", "--store", "b=KEY_STORE_A"],
        &["export", "--store", "a=KEY_STORE_A", "--store", "b=UNSET_KEY"],
    ] {
        out.push_str(&format!("$ invhooks {}\n{}\n", args.join(" "), run(&world, args)));
    }
    let same = world.run_env(
        &["export", "--store", "a=KEY_STORE_A", "--store", "b=SAME_KEY"],
        &[("KEY_STORE_A", KEY), ("SAME_KEY", KEY)],
    );
    out.push_str(&format!(
        "$ invhooks export --store a=KEY_STORE_A --store b=SAME_KEY\n{same}\n"
    ));
    snapshot!(world, out);
    assert_eq!(world.sandbox.counters().stats().total, 0, "no request");
}

/// A label that only looks like another is refused as loading the
/// exported `merchant:` would refuse it, before any request.
#[test]
fn look_alike_store_labels_are_refused_before_any_request() {
    let world = three();
    world.sandbox.counters().reset();
    for (label, says) in [
        ("cafe\u{301}", "`LABEL` is not in Unicode normal form C (NFC)"),
        ("store\u{200B}-a", "invisible or text-direction character U+200B"),
        ("store\u{A0}a", "`LABEL` contains the space-like character U+00A0"),
    ] {
        let flag = format!("{label}=KEY_STORE_A");
        let refused = run(&world, &["export", "--store", &flag]);
        assert_eq!(refused.code, 1, "{refused}");
        assert!(refused.stderr.contains(says), "{label:?}: {refused}");
    }
    assert_eq!(world.sandbox.counters().stats().total, 0, "no request");
}

#[test]
fn a_fleet_export_keeps_an_existing_file_unless_forced() {
    let world = three();
    world.write("fleet.yaml", "# mine\n");
    let refused = run(&world, EXPORT);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(
        refused.stderr.contains("`fleet.yaml` already exists"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(world.path("fleet.yaml")).unwrap(),
        "# mine\n"
    );
    let forced = run(&world, &[EXPORT, &["--force"]].concat());
    assert_eq!(forced.code, 0, "{forced}");
    #[cfg(unix)]
    assert_eq!(crate::usability::mode(&world.path("fleet.yaml")), 0o600);
}

#[test]
fn a_live_url_holding_a_key_is_refused_and_no_key_is_written() {
    let world = three();
    let leaky = format!("https://x.example/hook?token={KEY_B}");
    world.sandbox.seed(KEY, &[("customer.ordered", "leaky", &leaky)]);
    world
        .sandbox
        .seed(KEY_B, &[("customer.ordered", "leaky", &leaky)]);
    world
        .sandbox
        .seed(KEY_C, &[("customer.ordered", "leaky", &leaky)]);
    let refused = run(&world, EXPORT);
    assert_eq!(refused.code, 1, "{refused}");
    for store in ["store-a", "store-b", "store-c"] {
        let line = format!("`{store}` has an API key in `leaky` on `customer.ordered`");
        assert!(refused.stderr.contains(&line), "{refused}");
    }
    assert!(!world.path("fleet.yaml").exists(), "nothing written");
}

/// A short key (under 12 characters) inside a longer word of a live URL:
/// the refusal's key check reads short keys as whole words only, so the
/// last step before the file hides every key wherever it stands (then the
/// URL's `${VAR}` of a key is refused, and nothing is written).
#[test]
fn a_short_key_inside_a_word_of_a_live_url_is_never_written() {
    const SHORT: &str = "k3yshort9";
    let world = World::new();
    let url = format!("https://x.example/hook/x{SHORT}x");
    for key in [KEY, SHORT] {
        world.sandbox.seed(key, &[("customer.ordered", "inner", &url)]);
    }
    let keys = [("KEY_STORE_A", KEY), ("KEY_STORE_S", SHORT)];
    let args = [
        "export",
        "--store",
        "a=KEY_STORE_A",
        "--store",
        "s=KEY_STORE_S",
        "-o",
        "fleet.yaml",
    ];
    let export = world.run_env(&args, &keys);
    let written = std::fs::read_to_string(world.path("fleet.yaml")).unwrap_or_default();
    for text in [&export.stdout, &export.stderr, &written] {
        assert!(
            !text.contains(SHORT),
            "the short key was written:\n{export}\n{written}"
        );
    }
    assert_eq!(export.code, 1, "{export}");
    assert!(
        export
            .stderr
            .contains("the variable holding this merchant's API key"),
        "{export}"
    );
    assert!(written.is_empty(), "nothing written");
}
