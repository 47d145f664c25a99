//! Names that only look equal: each refused with `file:line`, what is
//! wrong and how to fix it; a name that merely contains spaces or
//! accented letters (in NFC) is fine.

#![allow(clippy::unwrap_used)]

use super::tests::{load, problem, with_entry};

/// A subscription whose name is the YAML scalar `name` (line 4).
fn named(name: &str) -> String {
    with_entry(&format!(
        "  - topic: customer.updated\n    name: {name}\n    callbackUrl: https://a.example/\n"
    ))
}

#[track_caller]
fn refused(text: &str, line: usize, message: &str, help: &str) {
    let (at, got, got_help) = problem(text);
    assert_eq!((at, got.as_str()), (line, message), "{got_help:?}");
    let got_help = got_help.unwrap_or_default();
    assert!(got_help.contains(help), "{got_help}");
    assert!(got_help.contains("byte for byte"), "{got_help}");
}

#[test]
fn leading_or_trailing_whitespace_is_refused() {
    for name in ["\"crm \"", "\" crm\"", "\"crm\u{00A0}\""] {
        refused(
            &named(name),
            4,
            "`name` starts or ends with whitespace",
            "remove it",
        );
    }
}

#[test]
fn a_space_like_character_other_than_u0020_is_refused() {
    for (c, point) in [
        ('\u{00A0}', "U+00A0"),
        ('\u{2009}', "U+2009"),
        ('\u{3000}', "U+3000"),
    ] {
        refused(
            &named(&format!("\"crm{c}sync\"")),
            4,
            &format!("`name` contains the space-like character {point}"),
            "use a plain space (U+0020)",
        );
    }
}

#[test]
fn a_name_not_in_nfc_is_refused() {
    // `cafe` + U+0301 displays as `café`, the NFC form is one U+00E9.
    refused(
        &named("\"cafe\u{0301}\""),
        4,
        "`name` is not in Unicode normal form C (NFC)",
        "`é` as U+00E9",
    );
}

#[test]
fn the_same_checks_apply_after_expansion() {
    // `CRM_SUFFIX` is not set: its default is used, with a trailing space.
    let text = named("\"crm${CRM_SUFFIX:- }\"");
    refused(&text, 4, "`name` starts or ends with whitespace", "remove it");
}

#[test]
fn plain_spaces_and_composed_letters_are_fine() {
    let manifest = load(&named("\"crm sync café\"")).unwrap();
    assert_eq!(manifest.subscriptions[0].name, "crm sync café");
}

#[test]
fn merchant_labels_get_the_same_checks() {
    let label = |value: &str| format!("version: 1\nmerchant: {value}\n");
    refused(
        &label("\"acme \""),
        2,
        "`merchant` starts or ends with whitespace",
        "remove it",
    );
    refused(
        &label("\"acme\u{00A0}eu\""),
        2,
        "`merchant` contains the space-like character U+00A0",
        "U+0020",
    );
    refused(
        &label("\"cafe\u{0301}\""),
        2,
        "`merchant` is not in Unicode normal form C (NFC)",
        "U+00E9",
    );
    assert_eq!(load(&label("acme eu")).unwrap().label, "acme eu");
}
