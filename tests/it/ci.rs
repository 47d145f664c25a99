//! CI conventions end to end: `$GITHUB_STEP_SUMMARY`, workflow annotations
//! under `GITHUB_ACTIONS=true`, Markdown within GitHub's limit on a huge
//! plan, completions and `--version`.

use crate::support::*;

const SIMPLE: &str = "merchant: acme
subscriptions:
  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/new?sig=s3cr3t\"}
  - {name: b, topic: customer.ordered, callbackUrl: \"https://b.example/\"}
";

fn drifted() -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest(SIMPLE));
    world.seed(&[
        ("customer.updated", "a", "https://a.example/old"),
        ("customer.cancelled", "stray", "https://stray.example/"),
    ]);
    world
}

#[test]
fn plan_drift_and_apply_append_their_summary_to_the_step_summary() {
    let world = drifted();
    world.write("summary.md", "earlier step\n");
    let summary = world.path("summary.md");
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];

    let plan = world.run_env(&["plan"], &env);
    assert_eq!(plan.code, 0, "{plan}");
    let drift = world.run_env(&["drift"], &env);
    assert_eq!(drift.code, 2, "{drift}");
    let apply = world.run_env(&["apply", "--auto-approve"], &env);
    assert_eq!(apply.code, 0, "{apply}");

    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n<!-- invhooks plan -->"),
        "appended, not replaced:\n{text}"
    );
    assert!(!text.contains("s3cr3t"), "secrets stay masked:\n{text}");
    insta::assert_snapshot!(text);

    let before = std::fs::read_to_string(&summary).unwrap();
    for args in [
        &["plan", "--no-step-summary"][..],
        &["drift", "--no-step-summary"],
        &["apply", "--auto-approve", "--no-step-summary"],
    ] {
        let run = world.run_env(args, &env);
        assert_ne!(run.code, 1, "{run}");
    }
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        before,
        "--no-step-summary writes nothing"
    );
}

#[test]
fn a_refused_apply_says_so_in_the_step_summary() {
    let world = drifted();
    let summary = world.path("summary.md");
    let run = world.run_env(&["apply"], &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    assert_eq!(run.code, 3, "{run}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("**Apply refused: nothing was changed.**"), "{text}");
    assert!(text.contains("`--auto-approve` was not given"), "{text}");
}

#[test]
fn an_unwritable_step_summary_is_a_warning_not_a_failure() {
    let world = drifted();
    let dir = world.path("no/such/dir/summary.md");
    let run = world.run_env(&["plan"], &[("GITHUB_STEP_SUMMARY", dir.to_str().unwrap())]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr.contains("warning: could not append the summary"),
        "{run}"
    );
}

const BROKEN: &str = "version: 1
subscriptions:
  - name: crm
    topic: customer.canceled
    callbackUrl: https://crm.example/
  - name: erp, billing
    topic: customer.updated
    callbackUrl: ${ERP_URL}/hook
";

#[test]
fn validation_errors_become_annotations_on_github_actions() {
    let world = World::new();
    world.write("config/hooks,eu.yaml", BROKEN);
    let workspace = world.dir.path().to_str().unwrap().to_owned();
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_WORKSPACE", workspace.as_str()),
    ];

    let run = world.run_env(&["validate", "-f", "config/hooks,eu.yaml"], &github);
    assert_eq!(run.code, 1, "{run}");
    assert!(!run.stdout.contains("::"), "stdout stays data:\n{run}");
    let annotations: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 2, "{run}");
    insta::assert_snapshot!(annotations.join("\n"));

    // `plan` loads manifests the same way.
    let plan = world.run_env(&["plan", "-f", "config/hooks,eu.yaml"], &github);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(
        plan.stderr
            .contains("::error file=config/hooks%2Ceu.yaml,line=4,"),
        "{plan}"
    );

    // Outside GitHub Actions: the usual report only.
    let local = world.run(&["validate", "-f", "config/hooks,eu.yaml"]);
    assert_eq!(local.code, 1, "{local}");
    assert!(!local.stderr.contains("::error"), "{local}");
    assert!(local.stderr.contains("config/hooks,eu.yaml:4"), "{local}");
}

#[test]
fn safety_warnings_become_warning_annotations_on_github_actions() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    world.seed(&[("customer.updated", "a", "https://a.example/")]);
    let run = world.run_env(&["plan"], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr.contains(
            "::warning file=webhooks.yaml,title=invhooks%3A apply will refuse without --force::merchant `webhooks`: the manifest declares no subscriptions"
        ),
        "{run}"
    );
}

#[test]
fn a_3000_change_markdown_plan_fits_a_pull_request_comment() {
    let world = World::new();
    let entries: String = (0..1_500)
        .map(|i| format!("  - {{name: new-{i:04}, topic: customer.updated, callbackUrl: \"https://hooks.example/{i}\"}}\n"))
        .collect();
    world.write(
        "webhooks.yaml",
        &manifest(&format!("merchant: big\nsubscriptions:\n{entries}")),
    );
    let seeds: Vec<(String, String)> = (0..1_500)
        .map(|i| {
            (
                format!("old-{i:04}"),
                format!("https://old.example/{i}?token=t{i}"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = seeds
        .iter()
        .map(|(n, u)| ("customer.ordered", n.as_str(), u.as_str()))
        .collect();
    world.seed(&refs);

    let summary = world.path("summary.md");
    let run = world.run_env(
        &["plan", "--format", "markdown"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = run.stdout;
    assert!(md.chars().count() <= 65_536, "{} characters", md.chars().count());
    assert!(md.len() <= 65_536, "{} bytes", md.len());
    assert!(md.contains("**Plan: 1500 to create, 0 to update, 1500 to delete, 0 unchanged, 0 ignored.**"));
    assert!(md.contains("| `big` | 1500 | 0 | 1500 | 0 | 0 | 0 |"));
    assert!(md.contains("> **`big`**: the plan updates or deletes 1500 of 1500 live subscriptions (100%)"));
    assert!(md.contains("row(s) were left out to fit GitHub's 65,536-character limit"));
    assert!(!md.contains("token=t"), "secrets masked");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        md,
        "the step summary is the same document"
    );
    let lines: Vec<&str> = md.lines().collect();
    let head = lines[..20].join("\n");
    let tail = lines[lines.len() - 3..].join("\n");
    insta::assert_snapshot!(format!("{head}\n[…]\n{tail}"));
}

#[test]
fn completions_for_every_shell() {
    let world = World::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = world.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run}");
        assert!(run.stdout.contains("invhooks"), "{shell}");
        assert!(
            run.stdout.contains("auto-approve"),
            "{shell}: flags are completed"
        );
    }
    let bad = world.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 1, "{bad}");
}

#[test]
fn version_names_the_package_and_the_commit_when_known() {
    let run = World::new().run(&["--version"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout, format!("invhooks {}\n", invhooks::VERSION));
    let version = invhooks::VERSION;
    let package = env!("CARGO_PKG_VERSION");
    assert!(version.starts_with(package), "{version}");
    let rest = &version[package.len()..];
    assert!(
        rest.is_empty()
            || (rest.starts_with(" (")
                && rest.ends_with(')')
                && rest[2..rest.len() - 1].chars().all(|c| c.is_ascii_hexdigit())),
        "{version}"
    );
}
