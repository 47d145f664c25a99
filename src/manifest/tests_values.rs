//! Unit tests of value checks: `${VAR}` expansion, topics, callback URLs,
//! names, duplicates and `ignore` rules.

#![allow(clippy::unwrap_used)]

use super::tests::{load, problem, problems, with_entry};
use crate::model::LiveSubscription;

#[test]
fn expansion_defaults_escapes_and_empty_values() {
    let entry = "  - name: a$${X}-${EMPTY}-${EMPTY:-d}-${NOPE:-n}\n    topic: customer.updated\n    callbackUrl: ${NOPE:-https://h.dev}/${CRM_BASE_URL:-x}\n";
    let m = load(&with_entry(entry)).unwrap();
    assert_eq!(m.subscriptions[0].name, "a${X}--d-n");
    assert_eq!(
        m.subscriptions[0].callback_url,
        "https://h.dev/https://crm.acme.dev"
    );
}

#[test]
fn unset_variable_is_named_with_a_fix() {
    let entry = "  - name: crm-sync\n    topic: customer.updated\n    callbackUrl: ${CRM_BASE}/x\n";
    let (line, message, help) = problem(&with_entry(entry));
    assert_eq!((line, message.as_str()), (5, "variable `CRM_BASE` is not set"));
    assert_eq!(help.unwrap(), "export CRM_BASE=… or write ${CRM_BASE:-default}");
}

#[test]
fn invalid_variable_syntax() {
    let entry = "  - name: ${1X}\n    topic: customer.updated\n    callbackUrl: https://h.dev/${\n";
    let all = problems(&with_entry(entry));
    assert_eq!(all[0].0, 3);
    assert_eq!(all[0].1, "invalid variable reference `${1X}` in `name`");
    assert_eq!(
        (all[1].0, all[1].1.as_str()),
        (5, "unterminated `${` in `callbackUrl`")
    );
    assert_eq!(all.len(), 2);
}

#[test]
fn variable_values_never_appear_in_messages() {
    let entry = "  - name: ${SECRET_NAME}\n    topic: customer.updated\n    callbackUrl: ${SECRET_URL}\n";
    let text = with_entry(entry);
    let all = load(&text).unwrap_err().to_string();
    assert!(!all.contains("hunter2"), "{all}");
    assert!(all.contains("`name` contains a control character"), "{all}");
    assert!(
        all.contains("callback URL (after expanding variables) must use `https`"),
        "{all}"
    );
}

#[test]
fn topic_and_topics_are_exclusive_and_topics_is_checked() {
    let both = "  - name: a\n    topic: customer.updated\n    topics: [customer.cancelled]\n    callbackUrl: https://h.dev\n";
    let (line, message, help) = problem(&with_entry(both));
    assert_eq!(
        (line, message.as_str()),
        (5, "subscription has both `topic` and `topics`")
    );
    assert_eq!(
        help.unwrap(),
        "use `topic` for one topic or `topics` for several, not both"
    );
    let empty = "  - name: a\n    topics: []\n    callbackUrl: https://h.dev\n";
    assert_eq!(
        problem(&with_entry(empty)),
        (
            4,
            "`topics` is empty".to_owned(),
            Some("list at least one topic, e.g. `topics: [customer.cancelled]`".to_owned())
        )
    );
    let dup = "  - name: a\n    topics:\n      - customer.updated\n      - customer.updated\n    callbackUrl: https://h.dev\n";
    let (line, message, _) = problem(&with_entry(dup));
    assert_eq!(
        (line, message.as_str()),
        (6, "duplicate topic `customer.updated` in `topics`")
    );
}

#[test]
fn unknown_topics_get_a_suggestion_or_the_list() {
    let entry = |topic: &str| format!("  - name: a\n    topic: {topic}\n    callbackUrl: https://h.dev\n");
    let (line, message, help) = problem(&with_entry(&entry("customer.canceled")));
    assert_eq!((line, message.as_str()), (4, "unknown topic `customer.canceled`"));
    assert_eq!(
        help.unwrap(),
        "did you mean `customer.cancelled`? (set `allowUnknownTopics: true` if Inveterate added this topic)"
    );
    let (_, message, help) = problem(&with_entry(&entry("order.created.xyz.abc")));
    assert_eq!(message, "unknown topic `order.created.xyz.abc`");
    assert_eq!(help.unwrap(), "run `invhooks topics` to list the known topics (set `allowUnknownTopics: true` if Inveterate added this topic)");
}

#[test]
fn allow_unknown_topics_accepts_well_formed_topics() {
    let text = "version: 1\nallowUnknownTopics: true\nsubscriptions:\n  - name: a\n    topics: [order.created, \"bad topic\"]\n    callbackUrl: https://h.dev\n";
    let (line, message, _) = problem(text);
    assert_eq!(
        (line, message.as_str()),
        (5, "topic `bad topic` contains whitespace or a control character")
    );
    let m = load(&text.replace(", \"bad topic\"", "")).unwrap();
    assert_eq!(m.subscriptions[0].topic, "order.created");
}

#[test]
fn callback_urls_must_be_absolute_https() {
    let url_problem = |url: &str| {
        let entry = format!("  - name: a\n    topic: customer.updated\n    callbackUrl: \"{url}\"\n");
        let all = problems(&with_entry(&entry));
        all.first().map(|(l, m, _)| (*l, m.clone()))
    };
    assert_eq!(
        url_problem("/relative"),
        Some((
            5,
            "callback URL is not an absolute URL: relative URL without a base".to_owned()
        ))
    );
    for url in ["javascript:alert(1)", "file:///etc/passwd", "ftp://h.dev/x"] {
        assert_eq!(
            url_problem(url),
            Some((5, format!("callback URL `{url}` must use `https`")))
        );
    }
    assert_eq!(
        url_problem("http://hooks.acme.dev/x"),
        Some((
            5,
            "callback URL `http://hooks.acme.dev/x` uses plain `http`".to_owned()
        ))
    );
    assert_eq!(
        url_problem("https://user:pw@h.dev/x?token=abc"),
        None,
        "valid even with secrets"
    );
    assert_eq!(
        url_problem("http://user:pw@h.dev/x?token=abc").unwrap().1,
        "callback URL `http://***@h.dev/x?token=***` uses plain `http`"
    );
    assert_eq!(
        url_problem("https://attacker.example\\\\@hooks.acme.dev/x"),
        Some((
            5,
            "callback URL `https://attacker.example/@hooks.acme.dev/x` contains a backslash (`\\`)"
                .to_owned()
        )),
        "quoted as deliveries read it"
    );
    assert_eq!(
        url_problem("https://hooks.acme.dev/a b").unwrap().1,
        "callback URL contains whitespace"
    );
    for url in [
        "http://localhost:8080/x",
        "http://127.0.0.5/x",
        "http://[::1]:9/x",
        "https://h.dev",
    ] {
        assert_eq!(url_problem(url), None, "{url}");
    }
    assert!(url_problem("https://h.dev/a b")
        .unwrap()
        .1
        .ends_with("contains whitespace"));
    assert!(url_problem("https://h.dev/\\u0007")
        .unwrap()
        .1
        .ends_with("contains a control character"));
    let long = format!("https://h.dev/{}", "a".repeat(2040));
    assert!(url_problem(&long)
        .unwrap()
        .1
        .ends_with("is longer than 2048 characters"));
    let allowed = "version: 1\nallowHttp: true\nsubscriptions:\n  - name: a\n    topic: customer.updated\n    callbackUrl: http://hooks.acme.dev/x\n";
    assert!(load(allowed).is_ok());
}

#[test]
fn long_names_and_control_characters_are_rejected() {
    let entry = format!(
        "  - name: {}\n    topic: customer.updated\n    callbackUrl: https://h.dev\n",
        "n".repeat(256)
    );
    assert_eq!(
        problem(&with_entry(&entry)).1,
        "`name` is longer than 255 characters"
    );
    let entry = "  - name: \"a\\tb\"\n    topic: customer.updated\n    callbackUrl: https://h.dev\n";
    assert_eq!(
        problem(&with_entry(entry)).1,
        "`name` contains a control character"
    );
}

#[test]
fn duplicate_subscriptions_name_both_places() {
    let text = "\
version: 1
subscriptions:
  - name: crm-sync
    topics: [customer.updated, customer.cancelled]
    callbackUrl: https://h.dev/a

  - name: crm-sync
    topic: customer.cancelled
    callbackUrl: https://h.dev/b
";
    let (line, message, help) = problem(text);
    assert_eq!(
        (line, message.as_str()),
        (7, "duplicate subscription `crm-sync` on `customer.cancelled`")
    );
    assert_eq!(
        help.unwrap(),
        "also declared at webhooks.yaml:3; names must be unique per topic"
    );
}

#[test]
fn ignore_rules_match_live_subscriptions_but_not_declared_ones() {
    let text = "\
version: 1
ignore:
  - name: \"zapier-*\"
  - topic: customer.*
    callbackUrl: https://legacy.acme.dev/*
subscriptions:
  - name: zapier-crm
    topic: customer.updated
    callbackUrl: https://h.dev
";
    let (line, message, help) = problem(text);
    assert_eq!(
        (line, message.as_str()),
        (
            7,
            "subscription `zapier-crm` on `customer.updated` is matched by an ignore rule"
        )
    );
    assert_eq!(
        help.unwrap(),
        "the ignore rule at webhooks.yaml:3 would hide it from invhooks; remove the rule or the subscription"
    );
    let m = load(&text.replace("zapier-crm", "crm")).unwrap();
    let live = |topic: &str, name: &str, url: &str| LiveSubscription {
        id: "1".to_owned(),
        topic: topic.to_owned(),
        name: name.to_owned(),
        callback_url: url.to_owned(),
    };
    assert!(m.is_ignored(&live("customer.updated", "zapier-1", "https://x")));
    assert!(m.is_ignored(&live("customer.updated", "old", "https://legacy.acme.dev/a/b")));
    assert!(!m.is_ignored(&live("customer.updated", "old", "https://new.acme.dev/a")));
    assert_eq!(m.ignore[1].location.line, 4);
}

#[test]
fn bad_globs_and_empty_rules() {
    let text = "version: 1\nignore:\n  - name: \"[a\"\n  - {}\n  - callbackUrl: \"https://u:pw@h/{a\"\n";
    let got: Vec<(usize, String)> = problems(text).into_iter().map(|(l, m, _)| (l, m)).collect();
    assert_eq!(
        got,
        [
            (3, "invalid glob `[a` in `name`: unclosed character class; missing ']'".to_owned()),
            (4, "ignore rule has no `name`, `topic` or `callbackUrl`".to_owned()),
            (5, "invalid glob in `callbackUrl`: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)".to_owned()),
        ]
    );
}

#[test]
fn invisible_and_text_direction_characters_are_rejected() {
    // U+202E reverses what follows: `crm-\u{202E}cnys` displays as `crm-sync`.
    let entry =
        "  - name: \"crm-\\u202Ecnys\"\n    topic: customer.updated\n    callbackUrl: https://h.dev\n";
    let (line, message, help) = problem(&with_entry(entry));
    assert_eq!(
        (line, message.as_str()),
        (
            3,
            "`name` contains the invisible or text-direction character U+202E"
        )
    );
    assert!(help.unwrap().starts_with("remove it"));
    let entry = "  - name: a\n    topic: customer.updated\n    callbackUrl: \"https://h\\u200B.dev/x\"\n";
    assert_eq!(
        problem(&with_entry(entry)).1,
        "callback URL contains the invisible or text-direction character U+200B"
    );
    let label = "version: 1\nmerchant: \"acme\\u2066\"\n";
    assert_eq!(
        problem(label).1,
        "`merchant` contains the invisible or text-direction character U+2066"
    );
    let topic = "version: 1\nallowUnknownTopics: true\nsubscriptions:\n  - name: a\n    topic: \"order.\\uFEFFcreated\"\n    callbackUrl: https://h.dev\n";
    assert_eq!(
        problem(topic).1,
        "topic `order.\\u{feff}created` contains whitespace or a control character"
    );
    // Visible non-ASCII text is fine: names and IDN hosts are kept as written.
    let entry =
        "  - name: café-sync\n    topic: customer.updated\n    callbackUrl: https://bücher.example/hook\n";
    let m = load(&with_entry(entry)).unwrap();
    assert_eq!(m.subscriptions[0].name, "café-sync");
    assert_eq!(m.subscriptions[0].callback_url, "https://bücher.example/hook");
}

#[test]
fn values_never_carry_the_api_key() {
    let env = |name: &str| match name {
        "INVETERATE_API_KEY" | "KEY_COPY" => Some("sk_live_abcdef123456".to_owned()),
        "KEY_EU" => Some("sk_live_eu_999999".to_owned()),
        "HOST" => Some("hooks.example".to_owned()),
        _ => None,
    };
    let load = |text: &str| super::load_str(std::path::Path::new("w.yaml"), text, &env);
    let entry = |name: &str, url: &str| {
        format!("version: 1\nsubscriptions:\n  - name: \"{name}\"\n    topic: customer.updated\n    callbackUrl: \"{url}\"\n")
    };
    let messages =
        |text: &str| -> Vec<String> { load(text).unwrap_err().0.into_iter().map(|d| d.message).collect() };
    let by_reference = entry("crm", "https://${HOST}/?k=${INVETERATE_API_KEY:-x}");
    assert_eq!(
        messages(&by_reference),
        ["`callbackUrl` uses `${INVETERATE_API_KEY}`, the variable holding this merchant's API key"]
    );
    let copied = entry("crm-${KEY_COPY}", "https://${HOST}/x");
    assert_eq!(
        messages(&copied),
        ["`name` would contain this merchant's API key (the value of `INVETERATE_API_KEY`)"]
    );
    // The manifest's own `apiKeyEnv`, and a reference even when it is unset.
    let eu = "version: 1\napiKeyEnv: KEY_EU\nsubscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://h/${KEY_EU}\"}\n  - {name: b, topic: customer.updated, callbackUrl: \"https://h/${NOT_SET_KEY:-x}\"}\n";
    assert_eq!(
        messages(eu),
        ["`callbackUrl` uses `${KEY_EU}`, the variable holding this merchant's API key"]
    );
    let unset = eu.replace("KEY_EU", "UNSET_KEY");
    assert_eq!(
        messages(&unset),
        [
            "`callbackUrl` uses `${UNSET_KEY}`, the variable holding this merchant's API key",
            "variable `UNSET_KEY` is not set"
        ]
    );
    // An escaped `$${` is text, and other variables are fine.
    assert!(load(&entry("crm", "https://${HOST}/$${INVETERATE_API_KEY}")).is_ok());
    // Another merchant's key, across files.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, "version: 1\napiKeyEnv: KEY_EU\n").unwrap();
    std::fs::write(
        &b,
        entry("crm", "https://h/${KEY_COPY}").replace("version: 1\n", "version: 1\napiKeyEnv: OTHER\n"),
    )
    .unwrap();
    let all = super::load_paths(&[a, b], &|name: &str| {
        (name == "KEY_COPY")
            .then(|| "sk_live_eu_999999".to_owned())
            .or_else(|| env(name))
    })
    .unwrap_err();
    let got: Vec<(usize, &str)> = all
        .0
        .iter()
        .map(|d| (d.location.line, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [(
            4,
            "a subscription on `customer.updated` would contain an API key (the value of `KEY_EU`)"
        )]
    );
    assert!(!all.to_string().contains("sk_live"));
}

#[test]
fn mask_path_secrets_is_a_boolean_per_entry_default_true() {
    use crate::secret::Masking;
    let base = "    callbackUrl: https://r.example/t/123e4567-e89b-12d3-a456-426614174000\n";
    let off = format!("  - name: crm\n    topics: [customer.updated, customer.cancelled]\n{base}    maskPathSecrets: false\n  - name: erp\n    topic: customer.updated\n{base}");
    let m = load(&with_entry(&off)).unwrap();
    let masking: Vec<(&str, Masking)> = m
        .subscriptions
        .iter()
        .map(|s| (s.name.as_str(), s.masking))
        .collect();
    assert_eq!(
        masking,
        [
            ("crm", Masking::KeepPath),
            ("crm", Masking::KeepPath),
            ("erp", Masking::Full)
        ]
    );
    let on = format!("  - name: crm\n    topic: customer.updated\n{base}    maskPathSecrets: true\n");
    assert_eq!(
        load(&with_entry(&on)).unwrap().subscriptions[0].masking,
        Masking::Full
    );
    let quoted =
        format!("  - name: crm\n    topic: customer.updated\n{base}    maskPathSecrets: \"false\"\n");
    let (line, message, help) = problem(&with_entry(&quoted));
    assert_eq!(
        (line, message.as_str()),
        (6, "`maskPathSecrets` must be `true` or `false`, found a string")
    );
    assert_eq!(
        help.unwrap(),
        "write `maskPathSecrets: true` or `maskPathSecrets: false`, without quotes"
    );
}
