//! Unit tests of [`load_str`](super::load_str): structure (YAML, fields,
//! types, required values), defaults, the all-at-once snapshot and the
//! schema; shared helpers for `tests_values`.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::fields::{FleetMerchant, Manifest, Subscription, WrittenIgnoreRule};
use super::yaml::Record;
use super::{load_str, schema, Diagnostics};
use crate::model::MerchantManifest;

pub(super) fn env(name: &str) -> Option<String> {
    match name {
        "CRM_BASE_URL" => Some("https://crm.acme.dev".to_owned()),
        "EMPTY" => Some(String::new()),
        "SECRET_URL" => Some("ftp://bob:hunter2@hunter2.example/hunter2".to_owned()),
        "SECRET_NAME" => Some("hunter2\u{7}".to_owned()),
        _ => None,
    }
}

pub(super) fn load(text: &str) -> Result<MerchantManifest, Diagnostics> {
    load_str(Path::new("webhooks.yaml"), text, &env)
}

/// Every problem as (line, message, help).
pub(super) fn problems(text: &str) -> Vec<(usize, String, Option<String>)> {
    match load(text) {
        Ok(_) => Vec::new(),
        Err(Diagnostics(all)) => all
            .into_iter()
            .map(|d| (d.location.line, d.message, d.help))
            .collect(),
    }
}

/// The only problem: (line, message, help).
#[track_caller]
pub(super) fn problem(text: &str) -> (usize, String, Option<String>) {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.remove(0)
}

/// A manifest with one subscription entry made of `entry` lines
/// (the entry starts on line 3).
pub(super) fn with_entry(entry: &str) -> String {
    format!("version: 1\nsubscriptions:\n{entry}")
}

#[test]
fn defaults_and_label_from_stem() {
    let m = load_str(Path::new("conf/acme-eu.yml"), "version: 1\n", &env).unwrap();
    assert_eq!(m.label, "acme-eu");
    assert_eq!(m.api_key_env, "INVETERATE_API_KEY");
    assert!(m.prune);
    assert!(m.ignore.is_empty() && m.subscriptions.is_empty());
    let m = load("version: 1\nmerchant: acme\napiKeyEnv: KEY_EU\nprune: false\nsubscriptions: []\n").unwrap();
    assert_eq!(
        (m.label.as_str(), m.api_key_env.as_str(), m.prune),
        ("acme", "KEY_EU", false)
    );
}

#[test]
fn topics_expand_to_one_subscription_each() {
    let text = "\
version: 1
subscriptions:
  - name: crm-sync
    topic: customer.joined.paid_tier
    callbackUrl: https://hooks.acme.dev/inveterate
  - name: crm-sync
    topics: [customer.cancelled, customer.pending_cancellation]
    callbackUrl: ${CRM_BASE_URL}/inveterate/cancel
";
    let m = load(text).unwrap();
    let got: Vec<(&str, &str, &str, usize)> = m
        .subscriptions
        .iter()
        .map(|s| {
            (
                s.topic.as_str(),
                s.name.as_str(),
                s.callback_url.as_str(),
                s.location.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "customer.joined.paid_tier",
                "crm-sync",
                "https://hooks.acme.dev/inveterate",
                3
            ),
            (
                "customer.cancelled",
                "crm-sync",
                "https://crm.acme.dev/inveterate/cancel",
                6
            ),
            (
                "customer.pending_cancellation",
                "crm-sync",
                "https://crm.acme.dev/inveterate/cancel",
                6
            ),
        ]
    );
}

/// A list long enough to be checked in shares on several threads
/// reports exactly what one thread would: every problem at its line, in
/// line order, and a duplicate across two shares.
#[test]
fn a_long_list_checked_in_shares_reports_as_one() {
    use std::fmt::Write;
    let mut text = String::from("version: 1\nsubscriptions:\n");
    for i in 0..9_000 {
        let name = if i == 8_000 { 10 } else { i };
        let topic = if [0, 4_500, 8_999].contains(&i) {
            "customer.nope"
        } else {
            "customer.updated"
        };
        let _ = write!(
            text,
            "  - name: hook-{name}\n    topic: {topic}\n    callbackUrl: https://h.example/{i}\n"
        );
    }
    let entry_line = |i: usize| 3 + i * 3;
    let found: Vec<(usize, String)> = problems(&text)
        .into_iter()
        .map(|(line, message, _)| (line, message))
        .collect();
    assert_eq!(
        found,
        [
            (entry_line(0) + 1, "unknown topic `customer.nope`".to_owned()),
            (entry_line(4_500) + 1, "unknown topic `customer.nope`".to_owned()),
            (
                entry_line(8_000),
                "duplicate subscription `hook-10` on `customer.updated`".to_owned()
            ),
            (entry_line(8_999) + 1, "unknown topic `customer.nope`".to_owned()),
        ]
    );
    let fixed = text.replace("customer.nope", "customer.updated").replace(
        "name: hook-10\n    topic: customer.updated\n    callbackUrl: https://h.example/8000",
        "name: hook-8000\n    topic: customer.updated\n    callbackUrl: https://h.example/8000",
    );
    let manifest = load(&fixed).unwrap();
    assert_eq!(manifest.subscriptions.len(), 9_000);
    for (i, sub) in manifest.subscriptions.iter().enumerate() {
        assert_eq!(sub.location.line, entry_line(i), "in file order");
        assert_eq!(sub.callback_url, format!("https://h.example/{i}"));
    }
}

#[test]
fn odd_yaml_is_reported_without_panicking() {
    for text in [
        "version: 1\n? [a, b]\n: c\n",
        "version: 1\nsubscriptions:\n  - <<: {name: a}\n    topic: customer.updated\n",
        "version: !!str 1\n",
        "version: 1\nsubscriptions:\n  - !sub {name: a, topic: customer.updated, callbackUrl: https://h.dev}\n",
        "version: 1\n---\nversion: 1\n",
        "version: 1\nsubscriptions: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        "version: 1\n1: a\nnull: b\n",
        "version: 1\nsubscriptions:\n  - name: a\n    topic: *nope\n",
    ] {
        let all = problems(text);
        assert!(!all.is_empty(), "{text}");
        assert!(all.iter().all(|(line, message, _)| *line >= 1 && !message.is_empty()));
    }
}

#[test]
fn top_level_must_be_a_mapping_and_not_empty() {
    let (line, message, help) = problem("- version: 1\n");
    assert_eq!(
        (line, message.as_str()),
        (1, "manifest must be a mapping of fields, found a list")
    );
    assert_eq!(help.unwrap(), "a manifest starts with `version: 1`");
    for text in ["", "  \n", "# only a comment\n"] {
        let (line, message, help) = problem(text);
        assert_eq!((line, message.as_str()), (1, "manifest `webhooks.yaml` is empty"));
        assert_eq!(help.unwrap(), "a manifest starts with `version: 1`");
    }
}

#[test]
fn version_is_required_and_must_be_one() {
    assert_eq!(problem("prune: true\n").1, "missing `version`");
    let (line, message, help) = problem("# v2\nversion: 2\n");
    assert_eq!((line, message.as_str()), (2, "unsupported manifest version `2`"));
    assert_eq!(help.unwrap(), "this invhooks reads `version: 1` manifests");
    assert_eq!(
        problem("version: 99999999999\n").1,
        "unsupported manifest version `99999999999`"
    );
    assert_eq!(
        problem("version: \"1\"\n").1,
        "`version` must be a whole number, found a string"
    );
    assert_eq!(problem("version:\n").1, "`version` is empty");
}

#[test]
fn unknown_fields_at_every_level() {
    let text = "\
version: 1
prun: false
colour: blue
ignore:
  - nam: x
subscriptions:
  - name: crm-sync
    topc: customer.cancelled
    callbackUrl: https://hooks.acme.dev/x
";
    let all = problems(text);
    let summary: Vec<(usize, &str, &str)> = all
        .iter()
        .map(|(l, m, h)| (*l, m.as_str(), h.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            (2, "unknown field `prun` in manifest", "did you mean `prune`?"),
            (3, "unknown field `colour` in manifest", "known fields: `version`, `merchant`, `apiKeyEnv`, `canary`, `merchants`, `prune`, `allowHttp`, `allowUnknownTopics`, `ignore`, `subscriptions`"),
            (5, "unknown field `nam` in ignore rule", "did you mean `name`?"),
            (8, "unknown field `topc` in subscription", "did you mean `topic`?"),
        ]
    );
}

#[test]
fn wrong_value_types_name_the_field_and_type() {
    let (line, message, help) = problem("version: 1\nprune: \"yes\"\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "`prune` must be `true` or `false`, found a string")
    );
    assert_eq!(
        help.unwrap(),
        "write `prune: true` or `prune: false`, without quotes"
    );
    let (line, message, _) = problem("version: 1\nsubscriptions: 3\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "`subscriptions` must be a list, found a number")
    );
    let (line, message, _) = problem("version: 1\nignore: [zapier]\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "item 1 of `ignore` must be a mapping, found a string")
    );
    let (line, message, help) = problem(&with_entry(
        "  - name: 123\n    topic: customer.updated\n    callbackUrl: https://h.dev\n",
    ));
    assert_eq!(
        (line, message.as_str()),
        (3, "`name` must be a string, found a number")
    );
    assert_eq!(help.unwrap(), "put the value in quotes, e.g. `name: \"123\"`");
    let (line, message, _) = problem(&with_entry(
        "  - name: a\n    topics:\n      - customer.updated\n      - [x]\n    callbackUrl: https://h.dev\n",
    ));
    assert_eq!(
        (line, message.as_str()),
        (6, "item 2 of `topics` must be a string, found a list")
    );
}

#[test]
fn missing_and_empty_fields() {
    let all = problems(&with_entry(
        "  - callbackUrl: https://h.dev\n  - name: \"\"\n    topic: \"\"\n    callbackUrl: \"\"\n  - {}\n",
    ));
    let got: Vec<(usize, &str)> = all.iter().map(|(l, m, _)| (*l, m.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "subscription has no `name`"),
            (3, "subscription has no `topic` or `topics`"),
            (4, "`name` is empty"),
            (5, "`topic` is empty"),
            (6, "`callbackUrl` is empty"),
            (7, "subscription has no `name`"),
            (7, "subscription has no `callbackUrl`"),
            (7, "subscription has no `topic` or `topics`"),
        ]
    );
}

#[test]
fn invalid_settings() {
    let (line, message, _) = problem("version: 1\napiKeyEnv: 1KEY\n");
    assert_eq!(
        (line, message.as_str()),
        (
            2,
            "`apiKeyEnv` does not look like the name of an environment variable"
        )
    );
    let (line, message, help) = problem("version: 1\nmerchant: \" \"\n");
    assert_eq!((line, message.as_str()), (2, "`merchant` is empty"));
    assert_eq!(
        help.unwrap(),
        "give a label, or remove `merchant:` to use the file name `webhooks`"
    );
}

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let text = "\
version: 1
prune: \"yes\"
allowHttps: true
ignore:
  - nme: \"zapier-*\"
  - name: \"[oops\"
subscriptions:
  - name: crm-sync
    topc: customer.cancelled
    callbackUrl: https://hooks.acme.dev/x
  - name: crm-sync
    topic: customer.canceled
    callbackUrl: ${CRM_BASE}/cancel
  - name: billing
    topics: [customer.payment_failed, customer.payment_failed]
    callbackUrl: http://billing.acme.dev/hook?token=s3cr3t
  - name: \"\"
    topic: customer.updated
    callbackUrl: ftp://files.acme.dev
  - name: audit
    topic: customer.updated
    topics: [customer.ordered]
    callbackUrl: https://audit.acme.dev
";
    let rendered = load(text).unwrap_err().to_string();
    assert!(!rendered.contains("s3cr3t"));
    insta::assert_snapshot!(rendered);
}

/// One definition gives the fields read and the schema's properties.
#[test]
fn known_field_lists_match_the_schema() {
    let schema = schema();
    let check = |object: &serde_json::Value, fields: &[&str]| {
        let mut properties: Vec<&str> = object["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = fields.to_vec();
        properties.sort_unstable();
        fields.sort_unstable();
        assert_eq!(properties, fields);
        assert_eq!(object["additionalProperties"], false);
    };
    check(&schema, Manifest::FIELDS);
    check(&schema["$defs"]["Subscription"], Subscription::FIELDS);
    check(&schema["$defs"]["IgnoreRule"], WrittenIgnoreRule::FIELDS);
    check(&schema["$defs"]["FleetMerchant"], FleetMerchant::FIELDS);
}

#[test]
fn schema_is_usable_by_editors() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["title"], "invhooks manifest");
    assert!(schema["description"]
        .as_str()
        .unwrap()
        .contains("webhook subscriptions"));
    assert_eq!(schema["required"], serde_json::json!(["version"]));
    let subscription = &schema["$defs"]["Subscription"];
    assert_eq!(
        subscription["required"],
        serde_json::json!(["name", "callbackUrl"])
    );
    let topics = subscription["properties"]["topic"]["anyOf"].as_array().unwrap();
    assert!(topics.iter().any(|t| t["const"] == "customer.cancelled"));
    assert!(subscription["properties"]["name"]["description"].is_string());
}

#[test]
fn overlong_lists_are_one_bounded_error() {
    let mut text = String::from("version: 1\nignore:\n");
    for i in 0..101 {
        text.push_str(&format!("  - name: \"r{i}-*\"\n"));
    }
    text.push_str("subscriptions:\n");
    // Empty entries: the bound is on the count, checked before any entry.
    text.push_str(&"  - {}\n".repeat(100_001));
    let all = problems(&text);
    let got: Vec<(usize, &str)> = all.iter().map(|(l, m, _)| (*l, m.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "`ignore` has 101 entries; at most 100 are supported"),
            (
                104,
                "`subscriptions` has 100001 entries; at most 100000 are supported"
            ),
        ]
    );
}

proptest::proptest! {
    /// A key pasted where its variable's name goes (a prefix, then a run
    /// mixing cases and digits, as keys are) is refused, and no message
    /// carries it; a conventional variable name is accepted.
    #[test]
    fn a_key_in_api_key_env_is_refused_unshown(
        prefix in "(sk|pk|rk|key)_(live|test)_",
        secret in "[a-z]{3,8}[A-Z]{3,8}[0-9]{2,8}",
        name in "[A-Z][A-Z0-9]{0,10}(_[A-Z0-9]{1,10}){0,4}",
    ) {
        let key = format!("{prefix}{secret}");
        let all = problems(&format!("version: 1\napiKeyEnv: {key}\n"));
        proptest::prop_assert_eq!(all.len(), 1);
        let (line, message, help) = &all[0];
        proptest::prop_assert_eq!(*line, 2);
        let help = help.as_deref().unwrap_or_default();
        proptest::prop_assert!(!message.contains(&secret) && !help.contains(&secret), "{message} {help}");
        proptest::prop_assert!(help.contains("never goes in a manifest"), "{help}");
        proptest::prop_assert!(load(&format!("version: 1\napiKeyEnv: {name}\n")).is_ok(), "{name}");
    }
}
