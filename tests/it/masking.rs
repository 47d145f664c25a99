//! `maskPathSecrets: false` (README "Secrets"): one entry's URL paths shown
//! as written in plan (text, JSON, Markdown), drift, `show` of a saved plan,
//! the apply report and `check`; userinfo, query values and the API key stay
//! masked, and entries without the switch (or with no entry) keep masking.

use crate::support::*;

const TENANT_OLD: &str = "https://crm.example/t/0d7c2f3e-1b4a-4c5d-8e9f-a0b1c2d3e4f5/in?sig=abc";
const TENANT_NEW: &str = "https://crm.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=abc";
const OTHER: &str = "https://erp.example/t/9b2c4d6e-8f01-4234-9567-89abcdef0123/in";

/// The manifest, with `switch` written into the `tenant` and `keyed` entries.
fn manifest_with(switch: &str) -> String {
    manifest(&format!(
        "merchant: acme
subscriptions:
  - name: tenant
    topic: customer.updated
    callbackUrl: \"{TENANT_NEW}\"{switch}
  - name: keyed
    topic: customer.ordered
    callbackUrl: \"https://crm.example/t/123e4567-e89b-12d3-a456-426614174000/in\"{switch}
  - name: other
    topic: customer.cancelled
    callbackUrl: \"{OTHER}\"
"
    ))
}

/// A world planning an update of `tenant`, an update of `keyed` whose live
/// path holds the API key, a create of `other` and a delete of `legacy`.
fn world(switch: &str) -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest_with(switch));
    world.seed(&[
        ("customer.updated", "tenant", TENANT_OLD),
        (
            "customer.ordered",
            "keyed",
            &format!("https://crm.example/t/{KEY}/in"),
        ),
        (
            "customer.payment_failed",
            "legacy",
            "https://old.example/u/5f0e1d2c-3b4a-4958-8776-655443322110",
        ),
    ]);
    world
}

/// Every report that shows the plan, one after another.
fn reports(world: &World) -> String {
    let mut out = String::new();
    for (args, code) in [
        (&["plan"][..], 0),
        (&["plan", "--format", "json"], 0),
        (&["plan", "--format", "markdown"], 0),
        (&["drift"], 2),
        (&["drift", "--format", "json"], 2),
        (&["drift", "--format", "markdown"], 2),
    ] {
        let run = world.run(args);
        assert_eq!(run.code, code, "{args:?}: {run}");
        out.push_str(&format!("$ invhooks {}\n{}\n", args.join(" "), run.stdout));
    }
    out
}

#[test]
fn mask_path_secrets_false_shows_its_entrys_paths_in_every_report() {
    let on = world("");
    let masked = reports(&on);
    assert!(!masked.contains("123e4567"), "UUIDs masked by default:\n{masked}");
    snapshot!(on, "mask_path_secrets_default", masked);

    let off = world("\n    maskPathSecrets: false");
    let shown = reports(&off);
    for path in [
        "/t/0d7c2f3e-1b4a-4c5d-8e9f-a0b1c2d3e4f5/in?sig=***",
        "/t/123e4567-e89b-12d3-a456-426614174000/in?sig=***",
    ] {
        assert!(shown.contains(path), "{path} shown, query masked:\n{shown}");
    }
    assert!(
        !shown.contains("9b2c4d6e") && !shown.contains("5f0e1d2c"),
        "other entries and deletes keep masking:\n{shown}"
    );
    assert!(
        shown.contains("https://crm.example/t/***/in"),
        "the key in a path stays masked:\n{shown}"
    );
    snapshot!(off, "mask_path_secrets_false", shown);
}

#[test]
fn a_saved_plan_shows_and_applies_with_its_entrys_masking() {
    let world = world("\n    maskPathSecrets: false");
    let plan = world.run(&["plan"]);
    let saved = world.run(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{saved}");
    let file = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert!(file.contains("\"maskPathSecrets\": false"), "{file}");
    let mut show = world.command(&["show", "plan.json"]);
    let shown = run(show.env_remove("INVETERATE_API_KEY"));
    // The file holds the key's placeholder where live held the key
    // (docs/plan-json.md), and `show` prints it as stored.
    // Shown as parsed: `{` and `}` percent-encoded in a path.
    let placeholder = "/t/$%7BINVHOOKS_API_KEY_OF:INVETERATE_API_KEY%7D/in";
    let expected = plan.stdout.replace("/t/***/in →", &format!("{placeholder} →"));
    assert_eq!((shown.code, &shown.stdout), (0, &expected), "{shown}");

    let applied = world.run(&["apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(applied.stdout.contains(placeholder), "{applied}");
    assert_apply_report(&applied.stdout.replace(placeholder, "/t/***/in"));

    let direct = self::world("\n    maskPathSecrets: false");
    let applied = direct.run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert_apply_report(&applied.stdout);
}

/// An apply report of [`world`]'s plan with the switch off.
fn assert_apply_report(text: &str) {
    let done = "done    ~ customer.updated tenant [wh_000001]  https://crm.example/t/0d7c2f3e-1b4a-4c5d-8e9f-a0b1c2d3e4f5/in?sig=*** → https://crm.example/t/123e4567-e89b-12d3-a456-426614174000/in?sig=***";
    assert!(text.contains(done), "{text}");
    assert!(
        text.contains("https://crm.example/t/***/in →"),
        "the key stays masked:\n{text}"
    );
    assert!(!text.contains("9b2c4d6e") && !text.contains("5f0e1d2c"), "{text}");
}

/// `check` shows a URL's path as written only when every entry delivering
/// to it has the switch off; its query value stays masked.
#[test]
fn check_shows_a_path_only_when_every_entry_using_the_url_says_so() {
    let port = crate::check::closed_port();
    let url = |uuid: &str| format!("http://127.0.0.1:{port}/t/{uuid}/in?sig=abc");
    let (own, shared) = (
        "123e4567-e89b-12d3-a456-426614174000",
        "9b2c4d6e-8f01-4234-9567-89abcdef0123",
    );
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: acme
subscriptions:
  - {{name: own, topic: customer.updated, callbackUrl: \"{}\", maskPathSecrets: false}}
  - {{name: a, topic: customer.ordered, callbackUrl: \"{}\", maskPathSecrets: false}}
  - {{name: b, topic: customer.cancelled, callbackUrl: \"{}\"}}
",
            url(own),
            url(shared),
            url(shared)
        )),
    );
    for format in ["text", "json", "markdown"] {
        let run = world.run(&["check", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {run}");
        assert!(
            run.stdout.contains(&format!("/t/{own}/in?sig=***")),
            "{format}: the switched entry's path shown, its query masked:\n{run}"
        );
        assert!(
            !run.stdout.contains(shared) && !run.stdout.contains("sig=abc"),
            "{format}: a URL one entry masks stays masked:\n{run}"
        );
    }
}
