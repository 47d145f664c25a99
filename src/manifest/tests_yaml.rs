//! Unit tests of the YAML front end ([`yaml`](super::yaml)): the values
//! it reads and their lines, what it refuses and where, its bounds
//! (nesting, aliases, bytes), and its errors as diagnostics.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::de::{MapAccess, SeqAccess};

use super::tests::{load as load_manifest, problem};
use super::yaml::FieldName;
use super::yaml::{parse, At, Found, Read, MAX_ALIAS_VALUES, MAX_BYTES, MAX_DEPTH, TAB_HELP};
use super::Diagnostic;

/// Any YAML value, for looking at what the front end reads.
#[derive(Debug, PartialEq)]
enum Node {
    Text(String),
    Bool(bool),
    Number(String),
    List(Vec<At<Node>>),
    Map(Vec<(At<FieldName>, At<Node>)>),
}

impl Read for Node {
    const EXPECTED: &'static str = "anything";
    fn text(text: &str) -> Option<Self> {
        Some(Node::Text(text.to_owned()))
    }
    fn boolean(value: bool) -> Option<Self> {
        Some(Node::Bool(value))
    }
    fn number(text: &str) -> Option<Self> {
        Some(Node::Number(text.to_owned()))
    }
    fn list<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        Ok(Vec::list(seq)?.map(Node::List))
    }
    fn mapping<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Some(Node::Map(entries)))
    }
}

fn read(text: &str) -> Result<Node, Found> {
    parse::<Node>(Path::new("t.yaml"), text).unwrap().0
}

#[track_caller]
fn refused(text: &str) -> Diagnostic {
    match parse::<Node>(Path::new("t.yaml"), text) {
        Ok(value) => panic!("read {:?}", value.0),
        Err(diagnostic) => diagnostic,
    }
}

/// The value at `key` of a mapping, and the key's line.
fn get<'n>(node: &'n Node, key: &str) -> (usize, &'n Result<Node, Found>) {
    let Node::Map(entries) = node else {
        panic!("not a mapping: {node:?}")
    };
    let (k, v) = entries
        .iter()
        .find(|(k, _)| k.value == Ok(FieldName(key.to_owned())))
        .unwrap_or_else(|| panic!("no {key}"));
    (k.line, &v.value)
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
    let root = read(TEXT).unwrap();
    assert_eq!(get(&root, "version").0, 1);
    let (line, Ok(Node::List(items))) = get(&root, "subscriptions") else {
        panic!("a list")
    };
    assert_eq!(line, 2);
    let lines: Vec<usize> = items.iter().map(|i| i.line).collect();
    assert_eq!(lines, [3, 7, 10], "an item at its first key");
    let (_, Ok(Node::List(topics))) = get(items[0].value.as_ref().unwrap(), "topics") else {
        panic!("topics")
    };
    assert_eq!(topics[1].line, 5);
    assert_eq!(
        get(items[1].value.as_ref().unwrap(), "topic").0,
        8,
        "a block scalar at its key"
    );
    let third = items[2].value.as_ref().unwrap();
    assert_eq!(get(third, "after").0, 10);
    let Node::Map(entries) = third else { panic!() };
    assert_eq!(
        entries[1].0.value,
        Err(Found::List),
        "a list as a key is kept as found"
    );
}

#[test]
fn scalars_resolve_by_the_yaml_1_2_core_schema() {
    let root = read("a: true\nb: yes\nc: ~\nd:\ne: 12\nf: \"12\"\ng: 007\nh: 0x1F\ni: 1.0\nj: .inf\nk: 'x y'\nl: !!str 12\n").unwrap();
    let expect = [
        ("a", Ok(Node::Bool(true))),
        ("b", Ok(Node::Text("yes".into()))),
        ("c", Err(Found::Empty)),
        ("d", Err(Found::Empty)),
        ("e", Ok(Node::Number("12".into()))),
        ("f", Ok(Node::Text("12".into()))),
        ("g", Ok(Node::Text("007".into()))),
        ("h", Ok(Node::Number("31".into()))),
        ("i", Ok(Node::Number("1.0".into()))),
        ("j", Ok(Node::Text(".inf".into()))),
        ("k", Ok(Node::Text("x y".into()))),
        ("l", Ok(Node::Text("12".into()))),
    ];
    for (key, value) in expect {
        assert_eq!(get(&root, key).1, &value, "{key}");
    }
}

#[test]
fn binary_is_kept_as_found_never_decoded() {
    let root = read("a: !!binary aGVsbG8=\nb: !!binary not base64\n").unwrap();
    assert_eq!(get(&root, "a").1, &Err(Found::Binary));
    assert_eq!(get(&root, "b").1, &Err(Found::Binary));
}

#[test]
fn a_tag_outside_yaml_s_own_is_refused_at_its_line() {
    let d = refused("version: 1\nname: !secret x\n");
    assert_eq!(d.location.line, 2);
    assert_eq!(d.message, "invalid YAML: the tag `!secret` is not supported");
}

#[test]
fn a_key_written_twice_is_refused_at_the_second() {
    let d = refused("version: 1\nmerchant: a\nmerchant: b\n");
    assert_eq!(d.location.line, 3);
    assert_eq!(
        d.message,
        "invalid YAML: the key `merchant` appears twice in this mapping"
    );
}

#[test]
fn a_second_document_is_refused() {
    let d = refused("version: 1\n---\nversion: 1\n");
    assert!((2..=3).contains(&d.location.line), "{d}");
    assert_eq!(d.message, "invalid YAML: a second document starts here");
    assert!(d.help.unwrap().contains("one YAML document"));
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}x{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(parse::<Node>(Path::new("t.yaml"), &ok).is_ok());
    let deep = format!("a:\n{}", "- ".repeat(MAX_DEPTH + 1) + "x\n");
    let d = refused(&deep);
    assert_eq!(d.location.line, 2);
    assert!(d.message.contains("nest more than 32 levels deep"), "{d}");
}

/// `a0` is ten values; each `aN` ten aliases of `aN-1`.
fn alias_bomb(levels: usize) -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..levels {
        let p = i - 1;
        let _ = writeln!(
            text,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    text
}

#[test]
fn aliases_are_bounded_in_values() {
    let d = refused(&alias_bomb(12));
    assert!((4..=6).contains(&d.location.line), "{d}");
    assert_eq!(
        d.message,
        format!("invalid YAML: aliases expand to more than {MAX_ALIAS_VALUES} values")
    );
    assert!(d.help.unwrap().contains("write the entries out"));
    // Under the bound: every alias expanded.
    let root = read("a: &a [x, y]\nb: [*a, *a]\n").unwrap();
    let (_, Ok(Node::List(b))) = get(&root, "b") else {
        panic!()
    };
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].line, 2, "an alias at the line it is used");
}

#[test]
fn aliases_are_bounded_in_bytes_before_they_are_copied() {
    // A 1 MiB scalar aliased 1,500 times once took 1.5 GB: refused after
    // 16 MiB, quickly.
    let big = "x".repeat(1 << 20);
    let text = format!("a: &big \"{big}\"\nlist:\n{}", "  - *big\n".repeat(1_500));
    let started = Instant::now();
    let d = refused(&text);
    assert!(started.elapsed() < Duration::from_secs(20), "bounded, not slow");
    assert_eq!(
        d.message,
        format!(
            "invalid YAML: the document expands to more than {} MiB",
            MAX_BYTES >> 20
        )
    );
    assert!(d.location.line >= 1);
}

#[test]
fn an_alias_inside_its_own_anchor_is_refused() {
    let d = refused("a: &x [1, *x]\n");
    assert_eq!(d.location.line, 1);
    assert!(d.message.contains("refers to a node that contains it"), "{d}");
}

#[test]
fn a_scalar_its_core_tag_does_not_allow_is_refused() {
    let d = refused("version: 1\nprune: !!bool maybe\n");
    assert_eq!(d.location.line, 2);
    assert!(d.message.starts_with("invalid YAML: "), "{d}");
}

#[test]
fn broken_yaml_is_an_error_at_a_line_never_a_panic() {
    for text in [
        "a: [",
        "- a\nb: c",
        "{{{{",
        "a:\n\t- b",
        "a: *x",
        "a: b\0c: d",
        "a: 'x\n\nb: 1",
    ] {
        let d = refused(text);
        let lines = text.lines().count() + 1;
        assert!((1..=lines).contains(&d.location.line), "{text:?}: {d}");
        assert!(d.message.starts_with("invalid YAML: "), "{d}");
    }
}

/// Lines stay right over a large manifest.
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
    let file = Path::new("big.yaml");
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
fn crlf_line_endings_keep_line_numbers() {
    let text = "version: 1\r\nsubscriptions:\r\n  - name: a\r\n    topic: customer.canceled\r\n    callbackUrl: https://h.dev\r\n";
    assert_eq!(problem(text).0, 4);
}

#[test]
fn deep_nesting_is_refused_at_its_line() {
    let flow = format!(
        "version: 1\n# [[[[ in a comment do not count\nsubscriptions: {}{}\n",
        "[{".repeat(25_000),
        "}]".repeat(25_000)
    );
    let block = format!("version: 1\nsubscriptions:\n{}x\n", "- ".repeat(500));
    for text in [flow, block] {
        let (line, message, help) = problem(&text);
        assert_eq!(line, 3);
        assert!(message.starts_with("invalid YAML: "), "{message}");
        assert!(help.unwrap().contains("unclosed"), "{message}");
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

#[test]
fn a_tab_in_indentation_gets_the_hint_and_its_line() {
    for (text, line) in [
        ("version: 1\nsubscriptions:\n\t- name: a\n", 3),
        ("version: 1\nsubscriptions:\n  - name: a\n\ttopic: x\n", 4),
        ("version: 1\r\nsubscriptions:\r\n\t- name: a\r\n", 3),
    ] {
        let (at, message, help) = problem(text);
        assert_eq!(help.as_deref(), Some(TAB_HELP), "{text:?}: {message}");
        assert_eq!(at, line, "{text:?}: {message}");
        assert!(message.starts_with("invalid YAML"), "{message}");
    }
}

#[test]
fn other_yaml_errors_keep_their_help() {
    let (_, _, help) = problem("version: 1\nsubscriptions: [\n  a: \"b\n");
    assert_ne!(help.as_deref(), Some(TAB_HELP));
    // A tab inside a value is not indentation.
    let (_, _, help) = problem("version: 1\nmerchant: \"a\tb\nsubscriptions: [\n");
    assert_ne!(help.as_deref(), Some(TAB_HELP));
}

proptest::proptest! {
    /// What export writes (serde-saphyr's serializer) the front end reads
    /// back as the same text: names YAML would otherwise take for another
    /// type (`true`, `~`, `0x1F`, `.inf`), indicators (`- `, `: `, `#`,
    /// `&`, `*`, `!`, `%`, quotes, brackets), `${` and non-ASCII.
    #[test]
    fn exported_names_and_urls_read_back_exactly(
        name in "(true|null|~|0x1F|1e3|\\.inf|007|- a|a: b|#x|&a|\\*a|!t|%p|'q'|\"d\"|\\[l\\]|\\{m\\}|\\$\\{V\\}|é|@|`|\\?|\\|)[a-z0-9 :#'\"\\-\\[\\]]{0,6}[a-z]",
        path in "[a-z0-9#?&=%:'\"\\-]{0,12}",
    ) {
        let url = format!("https://h.example/{path}");
        let live = vec![crate::fixtures::live("wh_1", "customer.updated", &name, &url)];
        let written = super::to_manifest(&live, None, "INVETERATE_API_KEY").unwrap();
        let loaded = super::load_str(Path::new("e.yaml"), &written.yaml, &|_| None)
            .map_err(|d| proptest::test_runner::TestCaseError::fail(format!("{d}\n{}", written.yaml)))?;
        proptest::prop_assert_eq!(&loaded.subscriptions[0].name, &name, "{}", written.yaml);
        proptest::prop_assert_eq!(&loaded.subscriptions[0].callback_url, &url, "{}", written.yaml);
    }
}
