//! Mistakes people make, and the message each now gets (issue 21, section
//! 3): Terraform habits, refusals that exit 3 (errors, not warnings), a
//! second sandbox on a busy port, `trigger` with unset manifest variables,
//! `demo` outside a checkout, and colour.

use crate::support::*;

/// Runs each command line in `world` and lays the runs out for a snapshot.
fn runs(world: &World, lines: &[&[&str]]) -> String {
    lines
        .iter()
        .map(|args| {
            let shown = args.join(" ").replace(KEY, "KEY");
            format!("$ invhooks {shown}\n{}\n", world.run(args))
        })
        .collect()
}

#[test]
fn terraform_habits_get_a_hint() {
    let world = World::new();
    let all = runs(
        &world,
        &[
            &["apply", "-auto-approve"],
            &["plan", "--api-key", KEY],
            &["plan", &format!("--api-key={KEY}")],
            &["drift", "--detailed-exitcode"],
            &["plan", "-out=plan.json"],
            // clap alone reads these as `-f orce` and `-f ormat`: a file named `orce`.
            &["apply", "-force", "--auto-approve"],
            &["plan", "-format", "json"],
            // A manifest where no argument is taken; the key where no argument is taken.
            &["plan", "webhooks.yaml"],
            &["apply", "plan.json"],
            &["plan", KEY],
        ],
    );
    // `runs` fails the test if the key given as a flag or argument is echoed.
    assert_eq!(all.matches("exit: 1\n").count(), 10, "{all}");
    assert!(!world.path("plan.json").exists(), "nothing ran");
    snapshot!(world, all);
}

/// Ten live subscriptions of which a manifest keeps three: a safety trip.
fn threshold_world() -> World {
    let world = World::new();
    let live: Vec<(String, String)> = (0..10)
        .map(|i| (format!("s{i}"), format!("https://a.example/{i}")))
        .collect();
    let seeds: Vec<(&str, &str, &str)> = live
        .iter()
        .map(|(n, u)| ("customer.updated", n.as_str(), u.as_str()))
        .collect();
    world.seed(&seeds);
    let kept: String = live[..3]
        .iter()
        .map(|(n, u)| entry(n, "customer.updated", u))
        .collect();
    world.write("webhooks.yaml", &manifest(&format!("subscriptions:\n{kept}")));
    world
}

#[test]
fn refusals_that_exit_3_are_errors() {
    let world = threshold_world();
    // `--force` passes the threshold; then no terminal and no `--auto-approve`.
    let mut all = runs(&world, &[&["apply", "--auto-approve"], &["apply", "--force"]]);
    let other = World::new();
    other.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("a", "customer.updated", "https://a.example/")
        )),
    );
    assert_eq!(other.run(&["plan", "--out", "plan.json"]).code, 0);
    let run = other.run_env(
        &["apply", "--plan", "plan.json", "--auto-approve"],
        &[("INVETERATE_API_KEY", KEY_B)],
    );
    all.push_str(&format!(
        "$ INVETERATE_API_KEY=<another key> invhooks apply --plan plan.json --auto-approve\n{run}\n"
    ));
    assert_eq!(all.matches("exit: 3\n").count(), 3, "{all}");
    assert!(
        !all.contains("warning: apply") && !all.contains("warning: plan"),
        "{all}"
    );
    assert_eq!(world.live().len(), 10, "nothing was changed");
    snapshot!(world, all);
}

#[test]
fn a_second_sandbox_on_a_busy_port_says_how_to_get_a_free_one() {
    let first = SandboxProcess::start(&["--listen", "127.0.0.1:0"]);
    let addr = first
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/v2.0")
        .to_owned();
    let world = World::new();
    let run = world.run(&["sandbox", "--listen", &addr]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("help: another process"), "{run}");
    let shown = run
        .to_string()
        .replace("os error 98", "os error N")
        .replace("os error 48", "os error N");
    snapshot!(world, shown);
}

#[test]
fn trigger_needs_only_the_keys_not_every_manifest_variable() {
    let world = World::new();
    // The event's delivery goes to a port that refuses it, held for the test.
    let refusing = crate::netkit::Refusing::new();
    let hook = format!("http://127.0.0.1:{}/hook", refusing.port());
    world.seed(&[("customer.updated", "crm", &hook)]);
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("crm", "customer.updated", "${CRM_URL}/hook")
        )),
    );
    let plan = world.run(&["plan"]);
    assert!(
        plan.stderr.contains("`CRM_URL` is not set"),
        "plan still needs it:\n{plan}"
    );
    let run = world.run(&["trigger", "customer.updated"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("sent to 1 subscription(s)"), "{run}");
    // A variable in `apiKeyEnv`'s place is still needed: it is the key.
    let run = world.run_env(&["trigger", "customer.updated"], &[("INVETERATE_API_KEY", "")]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("`INVETERATE_API_KEY` is not set"), "{run}");
}

#[test]
fn demo_outside_a_checkout_shows_commands_that_run_there_and_what_next() {
    let world = World::new();
    let run = world.run(&["demo"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stdout.contains("-f examples/"), "{run}");
    assert!(
        run.stdout
            .contains("INVETERATE_BASE_URL=http://127.0.0.1:8787/v2.0"),
        "{run}"
    );
    snapshot!(world, run.to_string());
}

#[test]
fn error_and_warning_labels_are_coloured_only_when_asked() {
    let world = World::new();
    let esc = "\x1b[";
    let always = world.run(&["--color", "always", "validate", "-f", "missing.yaml"]);
    assert!(
        always.stderr.starts_with(&format!("{esc}1m{esc}31merror:")),
        "{always}"
    );
    let piped = world.run(&["validate", "-f", "missing.yaml"]);
    assert!(piped.stderr.starts_with("error:"), "not a terminal:\n{piped}");
    let never = world.run(&["--color", "never", "validate", "-f", "missing.yaml"]);
    assert!(!never.stderr.contains(esc), "{never}");
    let refused = threshold_world().run(&["--color", "always", "apply", "--auto-approve"]);
    assert!(refused.stderr.contains(&format!("{esc}31merror:")), "{refused}");
}
