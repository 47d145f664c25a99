//! Tests of fleet files (README.md "Fleet files"): one manifest per
//! `merchants` entry with its own `vars`, each rule of an entry at its
//! `file:line`, problems common to all merchants reported once, and the
//! checks across merchants of [`load_paths`](super::load_paths).

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use super::{load_paths, load_str, load_str_all, Diagnostics};
use crate::model::MerchantManifest;

fn env(name: &str) -> Option<String> {
    match name {
        "KEY_A" => Some("key-a-secret".to_owned()),
        "KEY_B" => Some("key-b-secret".to_owned()),
        "REGION" => Some("eu".to_owned()),
        _ => None,
    }
}

const SUBS: &str = "subscriptions:
  - name: crm-sync-${REGION}
    topic: customer.cancelled
    callbackUrl: https://${CRM_HOST}/inveterate/${STORE}/cancel
";

fn fleet(entries: &str) -> String {
    format!("version: 1\nmerchants:\n{entries}{SUBS}")
}

const TWO: &str = "  - merchant: store-a
    apiKeyEnv: KEY_A
    vars: { STORE: a, CRM_HOST: crm-a.example.com }
  - merchant: store-b
    apiKeyEnv: KEY_B
    vars: { STORE: b, CRM_HOST: crm-b.example.com }
";

fn load(text: &str) -> Result<Vec<MerchantManifest>, Diagnostics> {
    load_str_all(Path::new("fleet.yaml"), text, &env)
}

/// Every problem as (line, message).
fn problems(text: &str) -> Vec<(usize, String)> {
    match load(text) {
        Ok(m) => panic!("expected problems, loaded {m:#?}"),
        Err(Diagnostics(all)) => all.into_iter().map(|d| (d.location.line, d.message)).collect(),
    }
}

#[test]
fn each_entry_is_one_merchant_with_its_own_vars() {
    let all = load(&fleet(TWO)).unwrap();
    assert_eq!(all.len(), 2);
    let (a, b) = (&all[0], &all[1]);
    assert_eq!((a.label.as_str(), a.api_key_env.as_str()), ("store-a", "KEY_A"));
    assert_eq!((b.label.as_str(), b.api_key_env.as_str()), ("store-b", "KEY_B"));
    assert_eq!(
        a.subscriptions[0].callback_url,
        "https://crm-a.example.com/inveterate/a/cancel"
    );
    assert_eq!(
        b.subscriptions[0].callback_url,
        "https://crm-b.example.com/inveterate/b/cancel"
    );
    // Not in `vars`: the environment.
    assert_eq!(a.subscriptions[0].name, "crm-sync-eu");
    // Locations point at the shared subscription line.
    assert_eq!(b.subscriptions[0].location.line, 10);
    assert_eq!(b.file, Path::new("fleet.yaml"));
    assert!(a.prune && b.prune);
}

#[test]
fn vars_come_before_the_environment_and_prune_applies_to_all() {
    let text = fleet(
        "  - merchant: store-a\n    apiKeyEnv: KEY_A\n    vars: { STORE: a, CRM_HOST: h.dev, REGION: us }\n",
    )
    .replace("version: 1\n", "version: 1\nprune: false\n");
    let all = load(&text).unwrap();
    assert_eq!(all[0].subscriptions[0].name, "crm-sync-us");
    assert!(!all[0].prune);
}

#[test]
fn a_variable_unset_for_one_merchant_names_it() {
    let text = fleet(&TWO.replace(", CRM_HOST: crm-b.example.com", ""));
    assert_eq!(
        problems(&text),
        [(
            12,
            "merchant `store-b`: `${CRM_HOST}` is not set (not in its `vars`, not in the environment)"
                .to_owned()
        )]
    );
}

#[test]
fn problems_every_merchant_has_are_reported_once() {
    let text = fleet(TWO).replace("customer.cancelled", "customer.cancelld");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, 11);
    assert!(found[0].1.starts_with("unknown topic"), "{found:#?}");
}

#[test]
fn a_url_bad_for_one_merchant_is_prefixed_with_it() {
    let text = fleet(&TWO.replace("crm-b.example.com", "\"bad host\""));
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, 12);
    assert!(
        found[0].1.starts_with("merchant `store-b`: callback URL"),
        "{found:#?}"
    );
}

#[test]
fn merchants_and_top_level_merchant_are_exclusive() {
    let text = format!("merchant: x\napiKeyEnv: KEY_A\n{}", fleet(TWO));
    assert_eq!(
        problems(&text),
        [
            (
                1,
                "a file with `merchants` cannot also have a top-level `merchant`".to_owned()
            ),
            (
                2,
                "a file with `merchants` cannot also have a top-level `apiKeyEnv`".to_owned()
            ),
        ]
    );
}

#[test]
fn canary_is_read_per_entry_or_per_file_and_only_as_a_boolean() {
    let text = fleet(&TWO.replace(
        "    apiKeyEnv: KEY_B\n",
        "    apiKeyEnv: KEY_B\n    canary: true\n",
    ));
    let canaries: Vec<bool> = load(&text).unwrap().iter().map(|m| m.canary).collect();
    assert_eq!(canaries, [false, true]);
    let one = "version: 1\nmerchant: a\napiKeyEnv: KEY_A\ncanary: true\nsubscriptions: []\n";
    assert!(load(one).unwrap()[0].canary);
    assert_eq!(
        problems(&format!("canary: true\n{}", fleet(TWO))),
        [(
            1,
            "a file with `merchants` cannot also have a top-level `canary`".to_owned()
        )]
    );
    let found = problems(&fleet(&TWO.replace(
        "    apiKeyEnv: KEY_B\n",
        "    apiKeyEnv: KEY_B\n    canary: yes please\n",
    )));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].1.contains("canary"), "{found:#?}");
}

#[test]
fn entry_rules_have_their_line() {
    let entries = "  - apiKeyEnv: KEY_A
  - merchant: store-b
    apiKeyEnv: 9KEY
    varz: {}
  - merchant: \"\"
  - merchant: store-d
    vars: [a]
  - merchant: store-e
    vars: { 9X: a, PORT: 8080, ON: true }
  - merchant: \" store-f\"
  - 42
";
    let found = problems(&format!("version: 1\nmerchants:\n{entries}"));
    let lines: Vec<(usize, &str)> = found.iter().map(|(l, m)| (*l, m.as_str())).collect();
    assert_eq!(
        lines,
        [
            (3, "merchant entry has no `merchant`"),
            (
                5,
                "`apiKeyEnv` does not look like the name of an environment variable"
            ),
            (6, "unknown field `varz` in merchant entry"),
            (7, "`merchant` is empty"),
            (9, "`vars` must be a mapping of names to values, found a list"),
            (11, "`vars` name `9X` is not a valid variable name"),
            (11, "`vars.PORT` must be a string, found a number"),
            (11, "`vars.ON` must be a string, found a boolean"),
            (12, "`merchant` starts or ends with whitespace"),
            (13, "item 7 of `merchants` must be a mapping, found a number"),
        ]
    );
}

#[test]
fn empty_merchants_and_too_many() {
    assert_eq!(
        problems("version: 1\nmerchants: []\n"),
        [(2, "`merchants` is empty".to_owned())]
    );
    // Written with nothing after it: not a file of no merchants that loads.
    assert_eq!(
        problems("version: 1\nmerchants:\nsubscriptions: []\n"),
        [(2, "`merchants` is empty".to_owned())]
    );
    let many = "  - merchant: m\n".repeat(10_001);
    let found = problems(&format!("version: 1\nmerchants:\n{many}"));
    assert_eq!(
        found,
        [(
            2,
            "`merchants` has 10001 entries; at most 10000 are supported".to_owned()
        )]
    );
}

#[test]
fn vars_cannot_hold_a_key_variable() {
    // Neither this merchant's key variable nor another's: a `vars` entry
    // named like one would be expanded as if it were the key.
    let text = fleet(&TWO.replace("STORE: a,", "STORE: a, KEY_B: x, KEY_A: y,"));
    assert_eq!(
        problems(&text),
        [
            (5, "`vars` sets `KEY_B`, a variable holding an API key".to_owned()),
            (5, "`vars` sets `KEY_A`, a variable holding an API key".to_owned()),
        ]
    );
}

#[test]
fn the_key_variable_cannot_be_referenced() {
    let text = fleet(TWO).replace("${STORE}/cancel", "${KEY_A}");
    let found = problems(&text);
    assert!(
        found.contains(&(
            12,
            "merchant `store-a`: `callbackUrl` uses `${KEY_A}`, the variable holding this merchant's API key"
                .to_owned()
        )),
        "{found:#?}"
    );
}

#[test]
fn load_str_refuses_a_fleet_of_several() {
    let Diagnostics(d) = load_str(Path::new("fleet.yaml"), &fleet(TWO), &env).unwrap_err();
    assert_eq!(d[0].message, "`fleet.yaml` declares 2 merchants, not one");
}

#[test]
fn fleet_entries_are_checked_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let fleet_path = dir.path().join("fleet.yaml");
    fs::write(&fleet_path, fleet(&TWO.replace("KEY_B", "KEY_A"))).unwrap();
    let single = dir.path().join("store-a.yaml");
    fs::write(&single, "version: 1\napiKeyEnv: KEY_C\n").unwrap();
    let Diagnostics(d) = load_paths(&[fleet_path.clone(), single], &env).unwrap_err();
    let found: Vec<(String, usize, &str)> = d
        .iter()
        .map(|d| {
            (
                d.location
                    .file
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                d.location.line,
                d.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "store-a.yaml".to_owned(),
                1,
                "merchant `store-a` is declared by two manifests"
            ),
            (
                "fleet.yaml".to_owned(),
                7,
                "merchants `store-a` and `store-b` both read their API key from `KEY_A`"
            ),
        ],
        "{d:#?}"
    );
    assert!(d[0]
        .help
        .as_deref()
        .unwrap()
        .contains(&format!("{}:3", fleet_path.display())));
}

#[test]
fn another_merchants_key_in_a_value_is_refused() {
    let text = fleet(TWO).replace("${STORE}/cancel", "${TOKEN}");
    let text = text
        .replace("STORE: b,", "STORE: b, TOKEN: key-a-secret,")
        .replace("STORE: a,", "STORE: a, TOKEN: t,");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.yaml");
    fs::write(&path, text).unwrap();
    let Diagnostics(d) = load_paths(&[path], &env).unwrap_err();
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        d[0].message,
        "a subscription on `customer.cancelled` would contain an API key (the value of `KEY_A`)"
    );
    assert!(!d.iter().any(|d| d.to_string().contains("key-a-secret")));
}

#[test]
fn every_problem_of_a_fleet_is_reported_at_once() {
    let text = "version: 1
merchant: top
merchants:
  - merchant: store-a
    apiKeyEnv: KEY_A
    vars: { STORE: a, PORT: 8080, KEY_B: x }
  - merchant: store-b
    apiKeyEnv: KEY_B
    varz: {}
  - apiKeyEnv: KEY_C
subscriptions:
  - name: crm-sync
    topic: customer.cancelled
    callbackUrl: https://${CRM_HOST}/inveterate/${STORE}/cancel
  - name: bad
    topic: nope.topic
    callbackUrl: https://x.example/${KEY_A}
";
    let Diagnostics(all) = load(text).unwrap_err();
    let rendered = Diagnostics(all).to_string();
    insta::assert_snapshot!(rendered);
}
