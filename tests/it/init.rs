//! `invhooks init`: what it writes validates (with its policy), plans
//! against the sandbox, and is the shipped examples byte for byte (which
//! `.ci/lint-ci-files` lints, scaffold included); it never overwrites
//! without `--force` and writes nothing when it refuses.

use std::path::Path;

use crate::support::*;

fn example(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(path)).unwrap()
}

fn read(world: &World, name: &str) -> String {
    std::fs::read_to_string(world.path(name)).unwrap()
}

#[test]
fn init_scaffolds_a_repository_that_validates_and_plans() {
    let world = World::new();
    let run = world.run(&["init"]);
    assert_eq!(run.code, 0, "{run}");
    for (written, shipped) in [
        (".github/workflows/invhooks-plan.yml", "github-actions/plan.yml"),
        (".github/workflows/invhooks-apply.yml", "github-actions/apply.yml"),
        (".github/workflows/invhooks-drift.yml", "github-actions/drift.yml"),
        ("webhooks.yaml", "webhooks.yaml"),
    ] {
        assert_eq!(read(&world, written), example(shipped), "{written}");
    }
    assert!(!world.path(".gitlab-ci.yml").exists());
    let validate = world.run(&["validate", "--policy", "invhooks-policy.yaml"]);
    assert_eq!(validate.code, 0, "{validate}");
    let plan = world.run(&["plan", "--policy", "invhooks-policy.yaml"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(plan.stdout.contains("8 to create"), "{plan}");
    snapshot!(
        world,
        format!(
            "{run}--- invhooks-policy.yaml\n{}",
            read(&world, "invhooks-policy.yaml")
        )
    );
}

#[test]
fn init_never_overwrites_without_force_and_writes_nothing_when_it_refuses() {
    let world = World::new();
    world.write("invhooks-policy.yaml", "mine\n");
    let run = world.run(&["init", "--ci", "gitlab"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(!world.path("webhooks.yaml").exists(), "no half-written scaffold");
    assert!(!world.path(".gitlab-ci.yml").exists(), "no half-written scaffold");
    assert_eq!(read(&world, "invhooks-policy.yaml"), "mine\n");
    let forced = world.run(&["init", "--ci", "gitlab", "--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    assert_eq!(read(&world, ".gitlab-ci.yml"), example("gitlab-ci.yml"));
    assert_ne!(read(&world, "invhooks-policy.yaml"), "mine\n");
    let again = world.run(&["init", "--ci", "gitlab"]);
    assert_eq!(again.code, 1, "{again}");
    snapshot!(world, format!("{run}\n{forced}\n{again}"));
}

#[test]
fn init_from_live_exports_what_is_live_and_plans_no_changes() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "erp", "https://erp.acme.example/hook"),
        ("customer.cancelled", "crm", "https://crm.example.org/cancel"),
    ]);
    let run = world.run(&[
        "init",
        "--from-live",
        "--merchant",
        "acme: eu",
        "--ci",
        "none",
        "--dir",
        "repo",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!world.path("repo/.github").exists() && !world.path("repo/.gitlab-ci.yml").exists());
    let plan = world.run(&[
        "plan",
        "-f",
        "repo/webhooks.yaml",
        "--policy",
        "repo/invhooks-policy.yaml",
    ]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(plan.stdout.contains("merchant acme: eu"), "{plan}");
    assert!(plan.stdout.contains("No changes."), "{plan}");
    let policy = read(&world, "repo/invhooks-policy.yaml");
    assert!(
        policy.contains(r#"allowedCallbackHosts: ["crm.example.org", "erp.acme.example"]"#),
        "{policy}"
    );
    snapshot!(world, run.to_string());
}

#[test]
fn init_refuses_a_label_that_would_not_validate_and_needs_no_base_url_offline() {
    let world = World::new();
    let run = world.run_env(
        &["init", "--merchant", "acme\u{00a0}eu"],
        &[("INVETERATE_BASE_URL", "ftp://nowhere")],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("would not validate as written; nothing was written"),
        "{run}"
    );
    assert!(!world.path("webhooks.yaml").exists());
    let run = world.run_env(
        &["init", "--ci", "none"],
        &[("INVETERATE_BASE_URL", "ftp://nowhere")],
    );
    assert_eq!(run.code, 0, "no request, so no base URL is checked:\n{run}");
    let run = world.run_env(
        &["init", "--from-live", "--dir", "live"],
        &[("INVETERATE_API_KEY", "")],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("`INVETERATE_API_KEY` is not set"), "{run}");
    assert!(!world.path("live").exists(), "nothing written");
}

#[test]
fn init_from_live_never_writes_the_key_a_live_url_holds() {
    let world = World::new();
    world.seed(&[(
        "customer.updated",
        "leak",
        &format!("https://hooks.example/in?k={KEY}"),
    )]);
    // `run` fails the test if the key is printed.
    let run = world.run(&["init", "--from-live", "--ci", "none"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("live subscription `leak` on `customer.updated`")
            && run.stderr.contains("left out"),
        "{run}"
    );
    let written = std::fs::read_to_string(world.path("webhooks.yaml")).unwrap();
    assert!(!written.contains(KEY) && !written.contains("leak"), "{written}");
    snapshot!(world, run.to_string());
}
