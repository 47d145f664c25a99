//! Errors a user can cause, as the binary prints them: manifest problems,
//! keys, base URLs, server errors and timeouts.

use crate::netkit::{json, response, Stub};
use crate::support::*;

#[test]
fn validate_reports_every_problem_with_file_and_line() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        "version: 1
prune: yes please
subscriptions:
  - name: crm
    topic: customer.canceled
    callbackUrl: https://crm.example/
  - name: crm
    topc: customer.updated
    callbackUrl: http://insecure.example/
  - name: erp
    topic: customer.updated
    callbackUrl: ${ERP_URL}/hook
",
    );
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    insta::assert_snapshot!(run.to_string());
}

#[test]
fn validate_as_json_reports_every_problem_as_data() {
    let world = World::new();
    world.write("ok.yaml", &manifest("merchant: acme\nsubscriptions: []\n"));
    let run = world.run(&["validate", "-f", "ok.yaml", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"format_version": "1", "ok": true, "merchants": ["acme"], "problems": []})
    );
    world.write(
        "bad.yaml",
        &manifest("prune: maybe\nsubscriptions:\n  - {name: a, topic: customer.canceled, callbackUrl: \"https://evil.example/\"}\n"),
    );
    world.write(
        "policy.yaml",
        "version: 1\nallowedCallbackHosts: [\"*.acme.example\"]\n",
    );
    let run = world.run(&[
        "validate",
        "-f",
        "bad.yaml",
        "-f",
        "missing.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.stderr, "", "the problems are on stdout, as data");
    // A callback host the policy does not allow is a problem like any other.
    world.write("hosts.yaml", &manifest("merchant: other\napiKeyEnv: KEY_B\nsubscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://evil.example/\"}\n"));
    let policed = world.run(&[
        "validate",
        "-f",
        "ok.yaml",
        "-f",
        "hosts.yaml",
        "--policy",
        "policy.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(policed.code, 1, "{policed}");
    snapshot!(world, format!("{}\n{}", run.stdout, policed.stdout));
}

#[test]
fn validate_ok_is_offline() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions:\n  - {name: a, topics: [customer.updated, customer.ordered], callbackUrl: \"https://a.example/\"}\n"));
    world.sandbox.counters().reset();
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("2 subscriptions"), "{run}");
    assert_eq!(world.sandbox.counters().stats().total, 0);
}

#[test]
fn bad_yaml_names_the_line() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        "version: 1\nsubscriptions:\n  - name: a\n   topic: x\n",
    );
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("webhooks.yaml:4"), "{run}");
}

#[test]
fn missing_manifest_says_how_to_point_at_one() {
    let world = World::new();
    let run = world.run(&["plan"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("webhooks.yaml"), "{run}");
    assert!(run.stderr.contains("-f"), "{run}");
}

#[test]
fn a_bad_key_is_a_clear_error_and_never_printed() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let run = world.run_env(&["plan"], &[("INVETERATE_API_KEY", "wrong-key-123")]);
    assert_eq!(run.code, 1, "{run}");
    assert!(!run.stderr.contains("wrong-key-123"), "{run}");
    snapshot!(world, run.to_string());
}

#[test]
fn an_unset_key_variable_is_named() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("apiKeyEnv: ACME_KEY\nsubscriptions: []\n"),
    );
    let run = world.run(&["plan"]);
    assert_eq!(run.code, 1, "{run}");
    insta::assert_snapshot!(run.to_string());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let run = world.run(&["plan", "--base-url", "http://api.example.com/v2.0"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("clear text"), "{run}");
}

#[test]
fn an_html_error_page_is_reported_not_parsed() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let stub = Stub::start(|_| {
        response(
            "500 Internal Server Error",
            "text/html",
            "<html><body>Internal error</body></html>",
        )
    });
    let base = stub.base_url();
    let run = world.run(&["plan", "--base-url", &base]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("500 Internal Server Error"), "{run}");
}

#[test]
fn an_unrecognised_list_shape_is_an_error_not_an_empty_plan() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let stub = Stub::start(|_| json("200 OK", r#"{"message":"ok","data":{"weird":1}}"#));
    let base = stub.base_url();
    let run = world.run(&["plan", "--base-url", &base]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("unrecognised list shape"), "{run}");
}

/// Names that only look like others (`crm ` vs `crm`, a no-break space,
/// `café` in NFD) are refused with `file:line` and what to fix; the
/// lookalike of an existing name is not a second subscription.
#[test]
fn validate_refuses_names_that_only_look_equal() {
    let world = World::new();
    let entry = |name: &str| {
        format!("  - {{name: \"{name}\", topic: customer.updated, callbackUrl: \"https://a.example/\"}}\n")
    };
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: \"acme \"\nsubscriptions:\n{}{}{}{}",
            entry("crm"),
            entry("crm "),
            entry("crm\u{00A0}sync"),
            entry("cafe\u{0301}")
        )),
    );
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 1, "{run}");
    insta::assert_snapshot!(run.to_string());
}

/// Two manifests that read their key from the same variable would manage
/// one store and delete each other's subscriptions: `validate` refuses,
/// naming both places, without a request.
#[test]
fn validate_refuses_two_manifests_with_one_key_variable() {
    let world = World::new();
    world.write("eu.yaml", &manifest("merchant: eu\n"));
    world.write(
        "us.yaml",
        &manifest("merchant: us\napiKeyEnv: INVETERATE_API_KEY\n"),
    );
    world.sandbox.counters().reset();
    let run = world.run(&["validate", "-f", "eu.yaml", "-f", "us.yaml"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(world.sandbox.counters().stats().total, 0);
    insta::assert_snapshot!(run.to_string());
}
