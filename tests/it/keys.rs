//! The key goes nowhere: with a live callback URL that holds the API key
//! (a receiver using it as a path token, a copy-paste mistake in the
//! Inveterate admin), no output, summary, annotation or file holds the key
//! or any 8-character piece of it; and a saved plan is bound to its key.

use crate::support::*;

/// Fails when `text` holds `KEY` or any 8-character piece of it.
fn assert_no_key(text: &str, what: &str) {
    let chars: Vec<char> = KEY.chars().collect();
    for piece in chars.windows(8) {
        let piece: String = piece.iter().collect();
        assert!(
            !text.contains(&piece),
            "{what} holds `{piece}` of the key:\n{text}"
        );
    }
}

/// A merchant whose live `crm` URL holds the key, declared with another URL.
fn leaky() -> World {
    let world = World::new();
    world.seed(&[("customer.updated", "crm", &format!("https://r.example/in/{KEY}"))]);
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: crm, topic: customer.updated, callbackUrl: \"https://r.example/in/new\"}\n"),
    );
    world
}

#[test]
fn plan_drift_and_apply_outputs_and_step_summaries_hold_no_key() {
    let world = leaky();
    let summary = world.path("summary.md");
    let env = [
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ("GITHUB_ACTIONS", "true"),
    ];
    for args in [
        &["plan"][..],
        &["plan", "--format", "markdown"],
        &["plan", "--format", "json"],
        &["drift"],
        &["drift", "--format", "json"],
        &["apply", "--auto-approve", "--wait", "2"],
    ] {
        let run = world.run_env(args, &env);
        assert_no_key(&run.stdout, &format!("{args:?} stdout"));
        assert_no_key(&run.stderr, &format!("{args:?} stderr"));
    }
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(
        summary.contains("invhooks apply"),
        "the summaries were written:\n{summary}"
    );
    assert_no_key(&summary, "the step summary");
    assert_eq!(
        world.live()[0].2,
        "https://r.example/in/new",
        "apply still worked"
    );
}

#[test]
fn a_saved_plan_holds_no_key_and_still_applies() {
    let world = leaky();
    let plan = world.run(&["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{plan}");
    let text = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert_no_key(&text, "the plan file");
    assert!(
        text.contains("${INVHOOKS_API_KEY_OF:INVETERATE_API_KEY}"),
        "{text}"
    );
    let apply = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert_no_key(&apply.stdout, "apply --plan stdout");
    assert_eq!(world.live()[0].2, "https://r.example/in/new");
}

#[test]
fn a_plan_saved_for_one_key_is_refused_with_another() {
    // Both merchants are empty, so their live fingerprints are equal: only
    // the key binding tells the plans apart.
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: crm, topic: customer.updated, callbackUrl: \"https://r.example/in\"}\n"),
    );
    let plan = world.run(&["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 0, "{plan}");
    world.sandbox.counters().reset();
    let other = world.run_env(
        &["apply", "--plan", "plan.json", "--auto-approve"],
        &[("INVETERATE_API_KEY", KEY_B)],
    );
    assert_eq!(other.code, 3, "{other}");
    assert!(
        other
            .stderr
            .contains("was saved for another API key: merchant `webhooks`"),
        "{other}"
    );
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );
    assert!(live_of(&world.sandbox, KEY_B).is_empty());
    let same = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(same.code, 0, "{same}");
}

#[test]
fn export_never_writes_the_key_and_names_the_subscription_holding_it() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "crm", &format!("https://r.example/in/{KEY}")),
        ("customer.ordered", "erp", "https://erp.example/in"),
    ]);
    let run = world.run(&["export", "-o", "exported.yaml"]);
    // A manifest may not hold the key (nor its variable), so the entry is
    // left out and named, and the export exits 1 (SPEC "export").
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(
            "error: live subscription `crm` on `customer.updated` [wh_000001] left out: a manifest cannot hold it as it is: `callbackUrl` uses `${INVETERATE_API_KEY}`"
        ),
        "{run}"
    );
    let text = std::fs::read_to_string(world.path("exported.yaml")).unwrap();
    assert_no_key(&text, "the exported manifest");
    assert!(!text.contains("r.example"), "{text}");
    assert!(
        text.contains("https://erp.example/in"),
        "other values stay real:\n{text}"
    );
    let stdout = world.run(&["export"]);
    assert_no_key(&stdout.stdout, "export to stdout");
}

#[test]
fn doctor_reports_hold_no_key() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "crm", &format!("https://r.example/in/{KEY}")),
        ("customer.ordered", "erp", &format!("https://r.example/{KEY}/a b")),
    ]);
    for format in ["text", "json"] {
        let url = format!("https://r.example/doctor/{KEY}");
        let args = [
            "doctor",
            "--format",
            format,
            "--write",
            "--topic",
            "customer.updated",
            "--callback-url",
            &url,
        ];
        let run = world.run(&args);
        // The sandbox refuses to store a key: the create fails, nothing is left.
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stdout.contains("`erp` on `customer.ordered`"),
            "the URL is reported:\n{run}"
        );
        assert!(run.stdout.contains("contains an API key"), "{run}");
        assert_no_key(&run.stdout, &format!("doctor --format {format} stdout"));
        assert_no_key(&run.stderr, &format!("doctor --format {format} stderr"));
    }
}
