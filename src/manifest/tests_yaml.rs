//! Unit tests of the one-pass YAML loader ([`events`](super::events)): the
//! values it builds (the same as serde_yaml's for manifests), the line of
//! every path, its bounds and errors, and those errors as diagnostics.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;

use serde_yaml::Value;

use super::events::{load, Problem, MAX_ALIAS_NODES, MAX_DEPTH};
use super::lines::{LineIndex, Seg};
use super::tests::{load as load_manifest, problem};

fn index(text: &str) -> LineIndex {
    load(text).unwrap().1
}

fn value(text: &str) -> Value {
    load(text).unwrap().0
}

#[track_caller]
fn refused(text: &str) -> Problem {
    match load(text) {
        Ok((value, _)) => panic!("loaded {value:?}"),
        Err(problem) => problem,
    }
}

fn path(parts: &[&str]) -> Vec<Seg> {
    parts
        .iter()
        .map(|p| match p.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::key(p),
        })
        .collect()
}

const TEXT: &str = "\
version: 1
subscriptions:
  - name: a
    topics: [x,
      y]
  -
    name: b
    topic: |
      zz
  - {name: c, ? [k]: v, after: 1}
";

#[test]
fn keys_and_items_get_their_lines() {
    let index = index(TEXT);
    assert_eq!(index.line(&path(&["version"])), 1);
    assert_eq!(index.line(&path(&["subscriptions"])), 2);
    assert_eq!(index.line(&path(&["subscriptions", "0"])), 3);
    assert_eq!(index.line(&path(&["subscriptions", "0", "topics", "1"])), 5);
    assert_eq!(index.line(&path(&["subscriptions", "1"])), 7);
    assert_eq!(index.line(&path(&["subscriptions", "1", "topic"])), 8);
    assert_eq!(index.line(&path(&["subscriptions", "2", "after"])), 10);
}

#[test]
fn unknown_paths_fall_back_to_the_parent_then_line_one() {
    let index = index(TEXT);
    assert_eq!(index.line(&path(&["subscriptions", "1", "nope"])), 7);
    assert_eq!(index.line(&path(&["nope"])), 1);
}

/// Every manifest the project ships, and every shape of value a manifest
/// holds, loads to exactly the value serde_yaml (libyaml) built before
/// the loader replaced it.
#[test]
fn values_are_serde_yaml_s_for_manifests() {
    let shipped = [
        include_str!("../../examples/webhooks.yaml"),
        include_str!("../../examples/fleet.yaml"),
    ];
    let shapes = [
        TEXT,
        "a: true\nb: false\nc: ~\nd: null\ne:\nf: 12\ng: -3\nh: 1.5\ni: \"12\"\nj: 'x y'\nk: yes\nl: 0x1F\n",
        "a: .inf\nb: -.inf\nc: 1e3\nd: 0o17\ne: +7\nf: 007\ng: 1_000\nh: 12:30\n",
        "list: [a, 'b', \"c\", [d], {e: f}]\nempty: []\nnone: {}\n",
        "text: |\n  one\n  two\nfolded: >\n  three\n  four\nkept: |+\n  five\n\n",
        "anchored: &x {name: a, topic: customer.updated}\ncopy: *x\nlist: [*x, *x]\n",
        "? [complex, key]\n: value\n? {k: v}\n: other\n",
        "tagged: !!str 12\nint: !!int 12\nbool: !!bool true\n",
        "unicode: \"bücher \\u00e9 \\t\"\nplain: caf\u{e9}\n",
        "# only a comment\n",
        "---\nexplicit: start\n...\n",
        "- a\n- b\n",
        "scalar\n",
    ];
    for text in shipped.iter().chain(&shapes) {
        let expected: Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(value(text), expected, "{text}");
    }
}

#[test]
fn a_tag_outside_the_core_schema_is_kept() {
    let Value::Mapping(map) = value("a: !secret x\nb: !list [1]\n") else {
        panic!("a mapping")
    };
    for key in ["a", "b"] {
        assert!(matches!(map.get(key), Some(Value::Tagged(_))), "{key}: {map:?}");
    }
}

#[test]
fn a_key_written_twice_is_refused_at_the_second() {
    let problem = refused("version: 1\nmerchant: a\nmerchant: b\n");
    assert_eq!(problem.line, 3);
    assert_eq!(
        problem.message,
        "the key `merchant` appears twice in this mapping"
    );
}

#[test]
fn a_second_document_is_refused_where_it_starts() {
    let problem = refused("version: 1\n---\nversion: 1\n");
    assert_eq!(problem.line, 2);
    assert!(problem.help.unwrap().contains("one YAML document"));
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}x{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(load(&ok).is_ok());
    let deep = format!("a:\n{}", "- ".repeat(MAX_DEPTH) + "x\n");
    let problem = refused(&deep);
    assert_eq!(problem.line, 2);
    assert_eq!(
        problem.message,
        "lists or mappings nest more than 128 levels deep"
    );
}

#[test]
fn aliases_are_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..6 {
        let p = i - 1;
        let _ = writeln!(
            text,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    let problem = refused(&text);
    assert_eq!(problem.line, 5, "the alias that goes over the budget");
    assert_eq!(
        problem.message,
        format!("aliases expand to more than {MAX_ALIAS_NODES} values")
    );
    // Just under the budget: loaded, every alias expanded.
    let Value::Mapping(map) = value("a: &a [x, y]\nb: [*a, *a]\n") else {
        panic!("a mapping")
    };
    let pair: Value = serde_yaml::from_str("[x, y]").unwrap();
    assert_eq!(map.get("b"), Some(&Value::Sequence(vec![pair.clone(), pair])));
}

#[test]
fn an_alias_inside_its_own_anchor_is_refused() {
    let problem = refused("a: &x [1, *x]\n");
    assert_eq!(problem.line, 1);
    assert!(
        problem.message.contains("refers to a node that contains it"),
        "{problem:?}"
    );
}

#[test]
fn a_scalar_its_core_tag_does_not_allow_is_refused() {
    let problem = refused("version: 1\nprune: !!bool maybe\n");
    assert_eq!(
        (problem.line, problem.message.as_str()),
        (2, "`maybe` is not a valid `!!bool`")
    );
}

#[test]
fn broken_yaml_is_an_error_at_a_line_never_a_panic() {
    for (text, line) in [
        ("a: [", 2),
        ("- a\nb: c", 2),
        ("{{{{", 2),
        ("a:\n\t- b", 2),
        ("a: *x", 1),
        ("a: b\0c: d", 1),
        ("a: 'x\n\nb: 1", 1),
    ] {
        let problem = refused(text);
        assert_eq!(problem.line, line, "{text:?}: {problem:?}");
        assert!(!problem.message.is_empty());
    }
}

/// Lines stay right over a large manifest (the index is built with the
/// value, in the same pass).
#[test]
fn every_entry_of_a_large_manifest_gets_its_line() {
    let mut text = "version: 1\nsubscriptions:\n".to_owned();
    for i in 0..1500 {
        let topic = if i == 1400 {
            "customer.updatd"
        } else {
            "customer.updated"
        };
        let _ = write!(
            text,
            "  - name: hook-{i:04}\n    topic: {topic}\n    callbackUrl: https://hooks.example.com/inveterate/{i:04}\n"
        );
    }
    let file = std::path::Path::new("big.yaml");
    let err = super::load_str(file, &text, &|_| None).expect_err("a bad topic");
    assert_eq!(err.0.len(), 1, "{err}");
    assert_eq!(err.0[0].location.line, 3 + 1400 * 3 + 1, "{err}");
    let fixed = text.replace("customer.updatd", "customer.updated");
    let manifest = super::load_str(file, &fixed, &|_| None).expect("valid");
    for (i, sub) in manifest.subscriptions.iter().enumerate() {
        assert_eq!(sub.location.line, 3 + i * 3);
    }
}

#[test]
fn yaml_syntax_error_has_its_line() {
    let (line, message, _) = problem("version: 1\nsubscriptions:\n  - name: a\n   topic: b\n");
    assert_eq!(line, 4);
    assert!(message.starts_with("invalid YAML: "), "{message}");
    assert!(!message.contains("line 4"), "{message}");
}

#[test]
fn alias_bomb_is_a_normal_error() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = if i == 1 {
            "a".to_owned()
        } else {
            format!("a{}", i - 1)
        };
        text.push_str(&format!("a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let (line, message, help) = problem(&text);
    assert_eq!(line, 5, "the alias that goes over the budget");
    assert_eq!(message, "invalid YAML: aliases expand to more than 100000 values");
    assert!(help.unwrap().contains("write the entries out"));
}

#[test]
fn crlf_line_endings_keep_line_numbers() {
    let text = "version: 1\r\nsubscriptions:\r\n  - name: a\r\n    topic: customer.canceled\r\n    callbackUrl: https://h.dev\r\n";
    assert_eq!(problem(text).0, 4);
}

#[test]
fn deep_nesting_is_refused_at_its_line() {
    // Flow (`[{` × 25 000: the scanner's own bound) and block nesting
    // (the loader's) get the same message.
    let flow = format!(
        "version: 1\n# [[[[ in a comment do not count\nsubscriptions: {}{}\n",
        "[{".repeat(25_000),
        "}]".repeat(25_000)
    );
    let block = format!("version: 1\nsubscriptions:\n{}x\n", "- ".repeat(500));
    for text in [flow, block] {
        let (line, message, help) = problem(&text);
        assert_eq!(line, 3);
        assert_eq!(
            message,
            "invalid YAML: lists or mappings nest more than 128 levels deep"
        );
        assert!(help.unwrap().contains("unclosed"));
    }
    // Brackets in values are fine.
    let m = load_manifest("version: 1\nignore:\n  - name: \"[abc]-*\"\n  - callbackUrl: https://[::1]/*\n")
        .unwrap();
    assert_eq!(m.ignore.len(), 2);
}

#[test]
fn yaml_errors_never_print_raw_control_or_direction_characters() {
    // The message quotes the repeated key, which comes from the document.
    let text = "version: 1\nsubscriptions:\n  - \u{202E}name: a\n    \u{202E}name: b\n";
    let (line, message, _) = problem(text);
    assert_eq!(line, 4);
    assert!(!message.contains('\u{202E}'), "{message}");
    assert!(message.contains("\\u{202e}name"), "{message}");
}
