//! What users read when something is off: usage lines, help of offline
//! commands, YAML tab errors, a missing file, a piped `yes`, and `export`
//! refusing to replace a manifest.

use crate::support::*;

const NETWORK_OPTIONS: [&str; 3] = ["--base-url", "--timeout", "--ca-cert"];

#[test]
fn usage_lines_do_not_list_options_set_in_the_environment() {
    let world = World::new();
    let pem = world.path("ca.pem");
    let env = [("SSL_CERT_FILE", pem.to_str().unwrap())];
    // `World` sets INVETERATE_BASE_URL for every run.
    let run = world.run_env(&["completions"], &env);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("Usage: invhooks completions <SHELL>\n"),
        "{run}"
    );
    let run = world.run_env(&["apply", "--plan", "p.json", "-f", "x.yaml"], &env);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("cannot be used with"), "{run}");
    for option in NETWORK_OPTIONS {
        assert!(!run.stderr.contains(option), "{option} in usage:\n{run}");
    }
}

#[test]
fn the_environment_still_provides_the_base_url_and_ca_cert() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    assert_eq!(
        world.run(&["plan"]).code,
        0,
        "INVETERATE_BASE_URL from the environment"
    );
    let run = world.run_env(&["plan"], &[("SSL_CERT_FILE", "missing.pem")]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("cannot use CA certificates from `missing.pem`"),
        "{run}"
    );
    let run = world.run_env(&["plan", "--base-url", ""], &[]);
    assert_eq!(run.code, 0, "an empty flag falls back to the environment:\n{run}");
}

#[test]
fn offline_commands_do_not_show_network_options_but_accept_them() {
    let world = World::new();
    for command in ["validate", "topics", "schema", "completions", "sandbox", "demo"] {
        let run = world.run(&[command, "--help"]);
        assert_eq!(run.code, 0, "{run}");
        for option in NETWORK_OPTIONS {
            assert!(
                !run.stdout.contains(option),
                "`{command} --help` shows {option}:\n{run}"
            );
        }
        assert!(
            run.stdout.contains("--color"),
            "other global options stay:\n{run}"
        );
    }
    for command in ["plan", "apply", "drift", "export"] {
        let run = world.run(&[command, "--help"]);
        for option in NETWORK_OPTIONS {
            assert!(
                run.stdout.contains(option),
                "`{command} --help` lacks {option}:\n{run}"
            );
        }
    }
    let run = world.run(&["topics", "--timeout", "5", "--base-url", "https://x.example/v2.0"]);
    assert_eq!(run.code, 0, "still accepted (scripts pass them):\n{run}");
    let run = world.run(&["topics", "--timeout", "0"]);
    assert_eq!(run.code, 1, "and still checked:\n{run}");
    // A base URL meant for the network commands does not fail offline ones.
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let env = [("INVETERATE_BASE_URL", "http://sandbox:8787/v2.0")];
    for command in [&["validate"][..], &["topics"], &["schema"]] {
        let run = world.run_env(command, &env);
        assert_eq!(run.code, 0, "{run}");
    }
    let run = world.run_env(&["plan"], &env);
    assert_eq!(run.code, 1, "a network command still refuses it:\n{run}");
    assert!(run.stderr.contains("is not https"), "{run}");
}

#[test]
fn a_tab_in_indentation_is_named_with_file_and_line() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        "version: 1\nsubscriptions:\n  - name: a\n\ttopic: customer.updated\n",
    );
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("error: webhooks.yaml:4: invalid YAML"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("help: YAML does not allow tabs for indentation; use spaces"),
        "{run}"
    );
}

#[test]
fn a_missing_file_is_named_without_a_line() {
    let run = World::new().run(&["validate", "-f", "nope.yaml"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.stderr,
        "error: cannot read `nope.yaml`: no such file\n  help: pass the manifest with -f PATH\n"
    );
}

#[test]
fn a_piped_yes_is_refused_and_says_to_use_auto_approve() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    let run = run(world.command(&["apply"]).write_stdin("yes\n"));
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("stdin is not one"), "{run}");
    assert!(run.stderr.contains("`echo yes |`"), "{run}");
    assert!(run.stderr.contains("help: pass `--auto-approve`"), "{run}");
    assert!(
        run.stderr.contains("error: apply asks for `yes`"),
        "an exit-3 refusal is an error:\n{run}"
    );
    assert!(world.live().is_empty(), "nothing was changed");
}

/// The permission bits of `path` (export files are 0600).
#[cfg(unix)]
pub(crate) fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn export_keeps_an_existing_file_unless_forced() {
    let world = World::new();
    world.seed(&[
        ("customer.updated", "crm", "https://crm.example/hook"),
        ("customer.cancelled", "crm", "https://crm.example/cancel"),
        ("customer.cancelled", "crm", "https://crm.example/cancel"),
    ]);
    world.write("webhooks.yaml", "# my manifest\n");
    world.sandbox.counters().reset();
    let refused = world.run(&["export", "-o", "webhooks.yaml"]);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(
        refused
            .stderr
            .contains("`webhooks.yaml` already exists; nothing was written"),
        "{refused}"
    );
    assert!(refused.stderr.contains("pass `--force`"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(world.path("webhooks.yaml")).unwrap(),
        "# my manifest\n"
    );
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "refused before any request"
    );

    let forced = world.run(&["export", "-o", "webhooks.yaml", "--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    // Three live, one a duplicate left out: two written, two counted.
    assert!(
        forced
            .stderr
            .contains("wrote 2 subscription(s) to `webhooks.yaml`"),
        "{forced}"
    );
    let text = std::fs::read_to_string(world.path("webhooks.yaml")).unwrap();
    assert_eq!(text.matches("- name:").count(), 2, "{text}");
    #[cfg(unix)]
    assert_eq!(mode(&world.path("webhooks.yaml")), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(world.dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn export_to_a_new_file_writes_mode_0600() {
    let world = World::new();
    world.seed(&[("customer.updated", "crm", "https://crm.example/hook?token=abc")]);
    let run = world.run(&["export", "-o", "new.yaml"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("wrote 1 subscription(s)"), "{run}");
    #[cfg(unix)]
    assert_eq!(mode(&world.path("new.yaml")), 0o600);
    let run = world.run(&["export", "--force"]);
    assert_eq!(run.code, 1, "--force needs -o:\n{run}");
}
