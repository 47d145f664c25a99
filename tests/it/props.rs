//! Property tests of the two parsers that read hostile input: the manifest
//! loader (`manifest::load_str`) on arbitrary bytes and on mutated valid
//! manifests, and the envelope parser (`api::envelope::parse_list`) on
//! arbitrary bytes and arbitrary JSON. Bounded case counts keep this to
//! seconds; the `fuzz/` targets run the same properties for longer.
//!
//! Beyond "never panics": what the loader accepts is always safe to use
//! (names and URLs free of control and invisible characters, bounded,
//! http(s) URLs), every error names a line inside the file, and the
//! envelope parser never turns a body into a list that drops entries.

use std::path::Path;

use invhooks::api::envelope::{parse_list, BodyError};
use invhooks::manifest::{load_str, Diagnostics};
use proptest::prelude::*;
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("../../examples/webhooks.yaml");

fn env(name: &str) -> Option<String> {
    match name {
        "CRM_BASE_URL" => Some("https://crm.example".to_owned()),
        "EMPTY" => Some(String::new()),
        "WEIRD" => Some("\u{202E}\n\u{0}".to_owned()),
        _ => None,
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

/// Loads `text` and checks what any result must satisfy.
fn check_manifest(text: &str) -> Result<(), TestCaseError> {
    // YAML 1.2 (and its parser) breaks lines at CR LF, LF and CR; one
    // more for the end.
    let breaks = ['\n', '\r'];
    let lines = text.replace("\r\n", "\n").split(breaks).count() + 1;
    match load_str(Path::new("fuzz.yaml"), text, &env) {
        Ok(m) => {
            for sub in &m.subscriptions {
                for value in [&sub.name, &sub.callback_url, &sub.topic] {
                    prop_assert!(!value.is_empty());
                    prop_assert!(
                        !value.chars().any(|c| c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')),
                        "unsafe character accepted in {value:?}"
                    );
                }
                prop_assert!(sub.name.chars().count() <= 255);
                prop_assert!(sub.callback_url.chars().count() <= 2048);
                let url = url::Url::parse(&sub.callback_url);
                prop_assert!(
                    url.as_ref()
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()),
                    "accepted callback URL {:?}",
                    sub.callback_url
                );
            }
        }
        Err(Diagnostics(all)) => {
            prop_assert!(!all.is_empty());
            for d in all {
                prop_assert!(
                    d.location.line >= 1 && d.location.line <= lines,
                    "{d} outside 1..={lines}"
                );
                prop_assert!(!d.message.is_empty());
                prop_assert!(
                    !d.message.contains('\u{202E}') && !d.message.contains('\u{0}'),
                    "{d}"
                );
            }
        }
    }
    Ok(())
}

/// One edit of a manifest's text.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, String),
    Delete(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

/// Fragments that matter to YAML, to `${VAR}` and to URL checks.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("!!binary ".to_owned()),
        Just("!tag ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("\n  ".to_owned()),
        Just("\t".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("\\u202E".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\r".to_owned()),
        Just("${".to_owned()),
        Just("${WEIRD}".to_owned()),
        Just("${EMPTY:-}".to_owned()),
        Just("$${".to_owned()),
        Just("---\n".to_owned()),
        Just("...\n".to_owned()),
        Just("%YAML 1.2\n".to_owned()),
        Just("javascript:".to_owned()),
        Just("http://".to_owned()),
        Just("user:pw@".to_owned()),
        Just("?token=".to_owned()),
        Just("bücher".to_owned()),
        Just("allowHttp: true\n".to_owned()),
        Just("allowUnknownTopics: true\n".to_owned()),
        Just("~".to_owned()),
        Just("0x1F".to_owned()),
        Just("1e400".to_owned()),
        "\\PC{0,8}",
        any::<String>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), fragment()).prop_map(|(at, s)| Mutation::Insert(at, s)),
        2 => (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete(at, len)),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let boundary = |s: &str, at: usize| {
        let mut at = at % (s.len() + 1);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match mutation {
        Mutation::Insert(at, s) => {
            let at = boundary(text, *at);
            format!("{}{s}{}", &text[..at], &text[at..])
        }
        Mutation::Delete(at, len) => {
            let start = boundary(text, *at);
            let end = boundary(text, start.saturating_add(*len).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        Mutation::DuplicateLine(i) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let i = i % lines.len();
                lines.insert(i, lines[i]);
            }
            lines.concat()
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.concat()
        }
    }
}

/// A JSON value of bounded size and depth.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z_]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("topic".to_owned()),
                    Just("name".to_owned()),
                    Just("callbackUrl".to_owned()),
                    Just("data".to_owned()),
                    Just("message".to_owned()),
                    Just("subscriptions".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A subscription object, sometimes with a missing or mistyped field.
fn subscription() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            any::<String>().prop_map(Value::String),
            any::<u32>().prop_map(|n| json!(n)),
            json_value()
        ],
        any::<String>(),
        any::<String>(),
        any::<String>(),
        prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    )
        .prop_map(|(id, topic, name, url, extra)| {
            let mut object = serde_json::Map::new();
            object.extend(extra);
            object.insert("id".into(), id);
            object.insert("topic".into(), json!(topic));
            object.insert("name".into(), json!(name));
            object.insert("callbackUrl".into(), json!(url));
            Value::Object(object)
        })
}

/// How many items a successful `parse_list` must return for `body`: the
/// length of `data` or of the one array inside it.
fn expected_len(body: &Value) -> Option<usize> {
    match &body["data"] {
        Value::Array(items) => Some(items.len()),
        Value::Object(map) => {
            let arrays: Vec<&Vec<Value>> = map.values().filter_map(Value::as_array).collect();
            (arrays.len() == 1).then(|| arrays[0].len())
        }
        _ => None,
    }
}

proptest! {
    // 512 cases in every run; `PROPTEST_CASES=100000` for a long one.
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_loader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_manifest(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn the_loader_survives_arbitrary_text(text in "\\PC{0,300}") {
        check_manifest(&format!("version: 1\n{text}"))?;
    }

    #[test]
    fn the_loader_survives_mutated_manifests(mutations in prop::collection::vec(mutation(), 1..6)) {
        let text = mutations.iter().fold(EXAMPLE.to_owned(), |text, m| apply(&text, m));
        check_manifest(&text)?;
    }

    #[test]
    fn the_envelope_parser_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_list(&bytes);
        let _ = invhooks::api::envelope::message(&bytes);
        let _ = invhooks::api::envelope::parse_one(&bytes);
    }

    #[test]
    fn the_envelope_parser_never_loses_entries(value in json_value(), wrap in 0u8..4) {
        let body = match wrap {
            0 => value,
            1 => json!({"message": "ok", "data": value}),
            2 => json!({"message": "ok", "data": {"subscriptions": value, "Count": 1}}),
            _ => json!({"data": [value]}),
        };
        let bytes = serde_json::to_vec(&body).unwrap();
        match parse_list(&bytes) {
            Ok(list) => prop_assert_eq!(Some(list.len()), expected_len(&body), "{}", body),
            Err(BodyError::Shape(m) | BodyError::Incomplete(m)) => prop_assert!(!m.is_empty()),
            Err(BodyError::NotJson(m)) => prop_assert!(false, "valid JSON reported as not JSON: {}", m),
        }
    }

    #[test]
    fn listed_subscriptions_round_trip(subs in prop::collection::vec(subscription(), 0..6), shape in 0u8..3) {
        let data = match shape {
            0 => json!(subs),
            1 => json!({"subscriptions": subs, "Count": subs.len()}),
            _ => json!({"Items": subs, "merchantId": "m"}),
        };
        let body = serde_json::to_vec(&json!({"message": "ok", "data": data})).unwrap();
        let ids: std::collections::BTreeSet<String> = subs
            .iter()
            .map(|s| s["id"].as_str().map_or_else(|| s["id"].to_string(), str::to_owned))
            .collect();
        let well_formed = subs.iter().all(|s| s["id"].is_string() || s["id"].is_number()) && ids.len() == subs.len();
        match parse_list(&body) {
            Ok(list) => {
                prop_assert!(well_formed);
                prop_assert_eq!(list.len(), subs.len());
                for (live, sent) in list.iter().zip(&subs) {
                    prop_assert_eq!(&live.name, sent["name"].as_str().unwrap());
                    prop_assert_eq!(&live.callback_url, sent["callbackUrl"].as_str().unwrap());
                    prop_assert_eq!(&live.topic, sent["topic"].as_str().unwrap());
                }
            }
            Err(e) => prop_assert!(!well_formed, "{e}"),
        }
    }
}
