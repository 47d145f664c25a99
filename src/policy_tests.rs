//! The policy: parsing with `file:line`, and hosts compared in the form
//! no URL trick can change.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::*;
use crate::fixtures::{desired, manifest};

fn policy(text: &str) -> Policy {
    parse(Path::new("policy.yaml"), text).unwrap()
}

fn errors(text: &str) -> String {
    parse(Path::new("policy.yaml"), text).unwrap_err().to_string()
}

const HOSTS: &str =
    "version: 1\nallowedCallbackHosts: [\"*.acme.dev\", \"hooks.zapier.com\", \"*.bücher.de\"]\n";

#[test]
fn hosts_match_the_globs_on_the_host_alone() {
    let p = policy(HOSTS);
    for ok in [
        "https://hooks.acme.dev/x",
        "https://a.b.acme.dev:8443/x?y=1",
        "https://HOOKS.ZAPIER.COM/hooks/catch/1",
        "https://user:pw@hooks.zapier.com/x",
    ] {
        assert_eq!(p.allows(ok), Ok(()), "{ok}");
    }
    for (bad, host) in [
        ("https://acme.dev/x", "acme.dev"),
        (
            "https://hooks.acme.dev.evil.example/x",
            "hooks.acme.dev.evil.example",
        ),
        ("https://hooks.zapier.com@evil.example/x", "evil.example"),
        ("https://hooks.zapier.com:pw@evil.example/x", "evil.example"),
        ("https://evil.example/hooks.zapier.com", "evil.example"),
        ("https://evil.example:443/.acme.dev", "evil.example"),
        ("https://evil.example?h=hooks.zapier.com", "evil.example"),
        ("http://127.0.0.1:8080/x", "127.0.0.1"),
    ] {
        assert_eq!(p.allows(bad), Err(host.to_owned()), "{bad}");
    }
}

#[test]
fn internationalised_hosts_are_compared_in_ascii() {
    let p = policy(HOSTS);
    assert_eq!(p.allows("https://shop.bücher.de/x"), Ok(()));
    assert_eq!(
        p.allows("https://shop.xn--bcher-kva.de/x"),
        Ok(()),
        "punycode is the same host"
    );
    // A look-alike (Cyrillic `а` in `аcme`) is another host.
    assert_eq!(
        p.allows("https://hooks.\u{430}cme.dev/x"),
        Err("hooks.xn--cme-5cd.dev".to_owned())
    );
    assert_eq!(
        p.allows("https://HOOKS.Acme.DEV./x"),
        Ok(()),
        "a trailing dot, any case"
    );
}

#[test]
fn no_allowed_hosts_key_allows_every_host_and_an_empty_list_none() {
    assert_eq!(policy("version: 1\n").allows("https://anything.example/"), Ok(()));
    let none = policy("version: 1\nallowedCallbackHosts: []\n");
    assert_eq!(
        none.allows("https://hooks.acme.dev/"),
        Err("hooks.acme.dev".to_owned())
    );
}

#[test]
fn a_violation_names_the_place_the_host_and_the_policy() {
    let p = policy(HOSTS);
    let m = manifest(vec![
        desired("customer.cancelled", "ok", "https://hooks.acme.dev/x"),
        desired("customer.updated", "bad", "https://evil.example/x?token=s3cr3t"),
    ]);
    let problems = p.check(&[m]);
    assert_eq!(problems.len(), 1);
    let text = problems[0].to_string();
    assert!(
        text.starts_with(
            "error: webhooks.yaml:1: callback host `evil.example` of `bad` (`customer.updated`) is not allowed by policy `policy.yaml`"
        ),
        "{text}"
    );
    assert!(
        text.contains("`*.acme.dev`, `hooks.zapier.com`, `*.xn--bcher-kva.de`"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn safety_keys_replace_only_their_own_thresholds() {
    let p = policy("version: 1\nsafety: { maxChangePercent: 10, maxDeletes: 20 }\n");
    assert_eq!(
        p.thresholds,
        Thresholds {
            max_change_percent: 10,
            max_deletes: Some(20),
            ..Thresholds::default()
        }
    );
    assert_eq!(policy("version: 1\n").thresholds, Thresholds::default());
}

#[test]
fn problems_are_reported_with_file_line_and_a_suggestion() {
    assert_eq!(
        errors("version: 1\nallowedCallbackHost: [a]\n"),
        "error: policy.yaml:2: unknown field `allowedCallbackHost` in policy\n  help: did you mean `allowedCallbackHosts`?"
    );
    assert_eq!(
        errors("version: 1\nsafety:\n  maxDelete: 3\n"),
        "error: policy.yaml:3: unknown field `maxDelete` in policy `safety`\n  help: did you mean `maxDeletes`?"
    );
    assert!(errors("version: 2\n").starts_with("error: policy.yaml:1: the policy's `version` must be `1`"));
    assert!(errors("").starts_with("error: policy.yaml:1: the policy file is empty"));
    assert!(errors("version: 1\nsafety: {maxChangePercent: 200}\n").starts_with("error: policy.yaml:2:"));
    assert!(
        errors("version: 1\nallowedCallbackHosts:\n  - \"[a\"\n").starts_with("error: policy.yaml:3: `[a`")
    );
    assert!(errors("version: 1\n  bad: [\n").starts_with("error: policy.yaml:"));
    assert!(
        errors("allowedCallbackHosts: []\n").contains("version"),
        "version is required"
    );
}

/// `count` globs of every kind the matcher sorts: names, `*` + name,
/// and globs with a literal end, a literal start, or neither.
fn many(count: usize) -> String {
    let mut text = String::from("version: 1\nallowedCallbackHosts:\n");
    for i in 0..count {
        let glob = match i % 5 {
            0 => format!("hooks.store{i}.example"),
            1 => format!("*.store{i}.example"),
            2 => format!("h?-{{eu,us}}.store{i}.example"),
            3 => format!("store{i}.hooks.*"),
            _ => format!("*store{i}-[ab]*"),
        };
        text.push_str(&format!("  - \"{glob}\"\n"));
    }
    text
}

#[test]
fn twenty_thousand_globs_of_every_kind_load_and_match_exactly() {
    let p = policy(&many(20_000));
    let at = |url: &str| p.allows(url);
    for i in [0, 5, 9_995, 19_995] {
        assert_eq!(at(&format!("https://hooks.store{i}.example/")), Ok(()));
        assert!(at(&format!("https://x.hooks.store{i}.example/")).is_err());
    }
    for i in [1, 19_996] {
        assert_eq!(at(&format!("https://a.b.store{i}.example/")), Ok(()));
        assert!(
            at(&format!("https://store{i}.example/")).is_err(),
            "no dot before it"
        );
    }
    for i in [2, 19_997] {
        assert_eq!(at(&format!("https://h1-eu.store{i}.example/")), Ok(()));
        assert!(at(&format!("https://h1-fr.store{i}.example/")).is_err());
    }
    for i in [3, 19_998] {
        assert_eq!(at(&format!("https://store{i}.hooks.dev/")), Ok(()));
        assert!(at(&format!("https://store{i}x.hooks.dev/")).is_err());
    }
    for i in [4, 19_999] {
        assert_eq!(at(&format!("https://x.store{i}-b.dev/")), Ok(()));
        assert!(at(&format!("https://x.store{i}-c.dev/")).is_err());
    }
    assert_eq!(
        at("https://attacker.example/"),
        Err("attacker.example".to_owned())
    );
}

#[test]
fn a_big_policy_refusal_names_a_few_globs_and_the_count() {
    let p = policy(&many(6_000));
    let m = manifest(vec![desired(
        "customer.updated",
        "crm",
        "https://attacker.example/x",
    )]);
    let text = p.check(&[m])[0].to_string();
    assert!(
        text.contains(
            "(allowedCallbackHosts: `hooks.store0.example`, `*.store1.example`, `h?-{eu,us}.store2.example`, \
             `store3.hooks.*`, `*store4-[ab]*`, … and 5995 more)"
        ),
        "{text}"
    );
    assert!(text.len() < 600, "{} bytes", text.len());
}

#[test]
fn an_entry_with_several_topics_is_refused_once_naming_them() {
    let p = policy(HOSTS);
    let mut a = desired("customer.cancelled", "crm", "https://evil.example/x");
    let mut b = desired("customer.updated", "crm", "https://evil.example/x");
    a.location.line = 4;
    b.location.line = 4;
    let problems = p.check(&[manifest(vec![a, b])]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .to_string()
            .starts_with("error: webhooks.yaml:4: callback host `evil.example` of `crm` (`customer.cancelled`, `customer.updated`)"),
        "{}",
        problems[0]
    );
}

#[test]
fn every_glob_must_compile_or_the_policy_is_refused() {
    let long = format!(
        "version: 1\nallowedCallbackHosts: [\"{}\", \"*.acme.dev\"]\n",
        "a".repeat(2_000)
    );
    assert!(
        errors(&long).contains("is not a valid glob: longer than 1024 characters"),
        "{}",
        errors(&long)
    );
    assert!(
        errors("version: 1\nallowedCallbackHosts: [\"{a,\", \"*.acme.dev\"]\n").contains("not a valid glob")
    );
}

#[test]
fn the_required_text_is_outside_classes_and_alternations() {
    assert_eq!(required_text("hooks-*.acme.dev").as_deref(), Some(".acme.dev"));
    assert_eq!(required_text("*store4-[ab]*").as_deref(), Some("store4-"));
    assert_eq!(required_text("[]abcdef]x").as_deref(), Some("x"));
    assert_eq!(required_text("[!]abcdef]x*").as_deref(), Some("x"));
    assert_eq!(required_text("{alpha,beta}.io*").as_deref(), Some(".io"));
    assert_eq!(required_text("a\\*bc*").as_deref(), Some("bc"));
    assert_eq!(required_text("*?*"), None);
}
