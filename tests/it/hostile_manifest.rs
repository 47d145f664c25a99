//! Manifests anyone can propose in a pull request, through the binary as
//! a user (or CI) sees them: every hostile value gets a clear, bounded
//! error naming `file:line`, or is handled correctly; nothing panics,
//! hangs or is written (a small file reaches the API not at all).

use std::time::{Duration, Instant};

use crate::support::*;

/// Runs `validate` and `plan` on `text`, side by side; both must fail
/// without a request.
fn refused(world: &World, text: &str) -> Run {
    world.write("webhooks.yaml", text);
    world.sandbox.counters().reset();
    let started = Instant::now();
    let (validate, plan) = std::thread::scope(|scope| {
        let validate = scope.spawn(|| world.run(&["validate"]));
        let plan = world.run(&["plan"]);
        (validate.join().unwrap(), plan)
    });
    // Proves "bounded", not speed: the quadratic cases this guards against
    // take hours; on a loaded shared runner two debug runs over 50,000
    // problems take ~9 s of CPU and 35-45 s of wall time.
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(validate.code, 1, "{validate}");
    assert_eq!(plan.code, 1, "{plan}");
    // An invalid manifest sends nothing, however big.
    let stats = world.sandbox.counters().stats();
    assert_eq!(stats.total, 0, "nothing reaches the API:\n{plan}");
    assert!(!plan.stderr.contains("panicked"), "{plan}");
    plan
}

#[test]
fn hostile_values_each_get_a_located_error() {
    let world = World::new();
    let long_name = "n".repeat(256);
    let long_url = format!("https://h.example/{}", "a".repeat(2040));
    let text = format!(
        r#"version: 1
subscriptions:
  - name: "bell\u0007name"
    topic: customer.updated
    callbackUrl: https://a.example/
  - name: "crm-\u202Ecnys"
    topic: customer.updated
    callbackUrl: https://a.example/
  - name: {long_name}
    topic: customer.updated
    callbackUrl: https://a.example/
  - name: long-url
    topic: customer.updated
    callbackUrl: {long_url}
  - name: js
    topic: customer.updated
    callbackUrl: "javascript:alert(document.cookie)"
  - name: file
    topic: customer.updated
    callbackUrl: file:///etc/passwd
  - name: data
    topic: customer.updated
    callbackUrl: "data:text/html,<script>alert(1)</script>"
  - name: cleartext
    topic: customer.updated
    callbackUrl: http://user:hunter2@hooks.example/?token=hunter2
  - name: newline
    topic: customer.updated
    callbackUrl: "https://a.example/\r\nX-Injected: 1"
  - name: zero-width
    topic: customer.updated
    callbackUrl: "https://a.example\u200B/"
"#
    );
    let run = refused(&world, &text);
    for needle in [
        "webhooks.yaml:3: `name` contains a control character",
        "webhooks.yaml:6: `name` contains the invisible or text-direction character U+202E",
        "webhooks.yaml:9: `name` is longer than 255 characters",
        "webhooks.yaml:14: callback URL `https://h.example/aaaa",
        "is longer than 2048 characters",
        "webhooks.yaml:17: callback URL `javascript:alert(document.cookie)` must use `https`",
        "webhooks.yaml:20: callback URL `file:///etc/passwd` must use `https`",
        "webhooks.yaml:23: callback URL `data:text/html,<script>alert(1)</script>` must use `https`",
        "webhooks.yaml:26: callback URL `http://***@hooks.example/?token=***` uses plain `http`",
        "webhooks.yaml:29: callback URL contains a control character",
        "webhooks.yaml:32: callback URL contains the invisible or text-direction character U+200B",
        "10 problems found in the manifest; nothing was sent to the API",
    ] {
        assert!(run.stderr.contains(needle), "missing `{needle}`:\n{run}");
    }
    assert!(!run.stderr.contains("hunter2"), "{run}");
    assert!(
        !run.stderr.contains('\u{202E}'),
        "raw direction override printed:\n{run}"
    );
    assert!(
        !run.stderr.contains('\u{7}'),
        "raw control character printed:\n{run}"
    );
}

#[test]
fn callback_urls_with_credentials_are_allowed_and_masked_in_every_report() {
    // Inveterate delivers to the URL as given, so credentials in it are a
    // legitimate way to authenticate deliveries; reports show them as ***.
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: crm, topic: customer.updated, callbackUrl: \"https://bot:s3cret-pw@hooks.example/in?sig=s3cret-sig\"}\n"),
    );
    for format in ["text", "json", "markdown"] {
        let run = world.run(&["plan", "--format", format]);
        assert_eq!(run.code, 0, "{run}");
        assert!(
            run.stdout.contains("https://***@hooks.example/in?sig=***"),
            "{run}"
        );
        assert!(!run.stdout.contains("s3cret"), "{format}:\n{run}");
    }
    let run = world.run(&["-vv", "apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
        "{run}"
    );
    // The API gets the real URL.
    assert_eq!(
        world.live()[0].2,
        "https://bot:s3cret-pw@hooks.example/in?sig=s3cret-sig"
    );
}

#[test]
fn internationalised_hosts_are_accepted_and_shown_as_parsed() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: bücher, topic: customer.updated, callbackUrl: \"https://bücher.example/webhooks/ä\"}\n"),
    );
    let run = world.run(&["plan"]);
    assert_eq!(run.code, 0, "{run}");
    // Shown as deliveries read it (SPEC "Safety by construction"): the
    // host in punycode, so a look-alike host cannot pass for another.
    assert!(
        run.stdout
            .contains("+ customer.updated bücher  https://xn--bcher-kva.example/webhooks/%C3%A4"),
        "{run}"
    );
    let run = world.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(world.live()[0].2, "https://bücher.example/webhooks/ä");
    let run = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "no perpetual diff from normalisation:\n{run}");
}

#[test]
fn yaml_bombs_and_deep_nesting_are_bounded_errors() {
    let world = World::new();
    let mut laughs = String::from("version: 1\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        laughs.push_str(&format!(
            "lol{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    let run = refused(&world, &laughs);
    assert!(
        run.stderr
            .contains("webhooks.yaml:7: invalid YAML: aliases expand to more than 100000 values"),
        "{run}"
    );
    assert!(
        run.stderr.contains("YAML aliases expand to too much data"),
        "{run}"
    );

    // A megabyte of `[`: refused at the parser's bound, without reading on.
    let deep = format!(
        "version: 1\nsubscriptions: {}{}\n",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    let run = refused(&world, &deep);
    assert!(
        run.stderr
            .contains("webhooks.yaml:2: invalid YAML: lists or mappings nest more than 32 levels deep"),
        "{run}"
    );
    let deep_block = format!(
        "version: 1\nsubscriptions:\n{}",
        (0..2_000)
            .map(|i| format!("{}- \n", "  ".repeat(i)))
            .collect::<String>()
    );
    let run = refused(&world, &deep_block);
    assert!(
        run.stderr
            .contains("webhooks.yaml:34: invalid YAML: lists or mappings nest more than 32 levels deep"),
        "{run}"
    );
    let run = refused(
        &world,
        &format!("version: 1\nsubscriptions:\n{}x\n", "- ".repeat(100_000)),
    );
    assert!(
        run.stderr
            .contains("webhooks.yaml:3: invalid YAML: lists or mappings nest more than 32 levels deep"),
        "{run}"
    );
}

#[test]
fn huge_files_and_endless_lists_are_refused() {
    let world = World::new();
    let mut big = manifest("subscriptions:\n");
    while big.len() <= 8 * 1024 * 1024 {
        big.push_str("  # padding padding padding padding padding padding padding padding\n");
    }
    let run = refused(&world, &big);
    assert!(run.stderr.contains("is larger than 8 MiB"), "{run}");

    let mut long = manifest("subscriptions:\n");
    long.push_str(&"  - {}\n".repeat(100_001));
    let run = refused(&world, &long);
    assert!(
        run.stderr
            .contains("webhooks.yaml:2: `subscriptions` has 100001 entries; at most 100000 are supported"),
        "{run}"
    );

    // 50 000 unknown fields: every one is an error, 200 are shown.
    let mut noisy = manifest("");
    for i in 0..50_000 {
        noisy.push_str(&format!("field{i}: x\n"));
    }
    let run = refused(&world, &noisy);
    assert!(
        run.stderr.contains("… and 49800 more problems not shown"),
        "{run}"
    );
    assert!(
        run.stderr.lines().count() < 500,
        "{} lines",
        run.stderr.lines().count()
    );
}

/// A manifest whose text after aliases or `${VAR}`s would pass 16 MiB is
/// refused at a line, however the bytes would be made (README "Big
/// stores"). Time and peak memory of these same shapes are measured with
/// the release binary by `scripts/budgets.sh`.
#[test]
fn text_past_16_mib_after_expansion_is_refused_at_a_line() {
    let world = World::new();
    // A 1 MiB name aliased 5,000 times (once: 1.5 GB for 1,500, an abort
    // for 5,000).
    let mut aliased = manifest(&format!(
        "subscriptions:\n  - name: &big \"{}\"\n    topic: customer.updated\n    callbackUrl: https://a.example/\n",
        "x".repeat(1 << 20)
    ));
    for i in 0..5_000 {
        aliased.push_str(&format!(
            "  - name: *big\n    topic: customer.updated\n    callbackUrl: https://a.example/{i}\n"
        ));
    }
    let run = refused(&world, &aliased);
    assert!(
        run.stderr
            .contains("invalid YAML: the document expands to more than 16 MiB"),
        "{run}"
    );
    assert!(run.stderr.contains("webhooks.yaml:"), "{run}");

    // A 200 KiB fleet file: every merchant's URL is 2,000 bytes of its
    // `vars`, 100 merchants × 100 entries (20 MB once expanded;
    // scripts/budgets.py runs 1,000 × 1,000).
    let var = "v".repeat(2_000);
    let mut fleet = String::from("version: 1\nmerchants:\n");
    for m in 0..100 {
        fleet.push_str(&format!(
            "  - merchant: m{m}\n    apiKeyEnv: KEY_{m}\n    vars: {{ PART: \"{var}\" }}\n"
        ));
    }
    fleet.push_str("subscriptions:\n");
    for i in 0..100 {
        fleet.push_str(&format!(
            "  - name: s{i}\n    topic: customer.updated\n    callbackUrl: https://a.example/${{PART}}\n"
        ));
    }
    let run = refused(&world, &fleet);
    assert!(
        run.stderr
            .contains("the subscriptions expand to more than 16 MiB of names, URLs and topics"),
        "{run}"
    );

    // One value that a variable would make longer than any URL is
    // refused before it is built.
    let long = format!(
        "version: 1\nmerchants:\n  - merchant: a\n    apiKeyEnv: KEY_A\n    vars: {{ P: \"{}\" }}\nsubscriptions:\n  - name: s\n    topic: customer.updated\n    callbackUrl: https://a.example/{}\n",
        "p".repeat(500_000),
        "${P}".repeat(2_000)
    );
    let run = refused(&world, &long);
    assert!(
        run.stderr.contains(
            "webhooks.yaml:9: `callbackUrl` is longer than 2048 characters after expanding variables"
        ),
        "{run}"
    );
}
