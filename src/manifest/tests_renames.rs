//! `renamedFrom`: a string or a list, expanded per topic; naming a declared
//! key, two claims on one old name, and bad old names refused at
//! `file:line` (README "Renames").

#![allow(clippy::unwrap_used)]

use super::tests::{load, problem, with_entry};

/// An entry `name` on `topic` (or `topics: [...]` when it has a `[`) with
/// `renamedFrom: renamed` (line 3 onwards).
fn entry(topic: &str, name: &str, renamed: &str) -> String {
    let topic = if topic.starts_with('[') {
        format!("topics: {topic}")
    } else {
        format!("topic: {topic}")
    };
    format!(
        "  - {topic}\n    name: {name}\n    callbackUrl: https://a.example/\n    renamedFrom: {renamed}\n"
    )
}

#[test]
fn a_string_or_a_list_of_old_names() {
    let m = load(&with_entry(&entry("customer.updated", "crm-v2", "crm"))).unwrap();
    assert_eq!(m.subscriptions[0].renamed_from, ["crm"]);
    let m = load(&with_entry(&entry("customer.updated", "crm-v3", "[crm, crm-v2]"))).unwrap();
    assert_eq!(m.subscriptions[0].renamed_from, ["crm", "crm-v2"]);
}

#[test]
fn topics_expansion_renames_per_topic() {
    let m = load(&with_entry(&entry(
        "[customer.updated, customer.ordered]",
        "crm-v2",
        "crm",
    )))
    .unwrap();
    assert_eq!(m.subscriptions.len(), 2);
    assert!(m.subscriptions.iter().all(|s| s.renamed_from == ["crm"]));
}

#[test]
fn naming_a_declared_key_is_refused_at_its_line() {
    let text = with_entry(&format!(
        "{}{}",
        entry("customer.updated", "crm-v2", "crm"),
        "  - topic: customer.updated\n    name: crm\n    callbackUrl: https://a.example/\n"
    ));
    let (line, message, help) = problem(&text);
    assert_eq!(line, 6);
    assert_eq!(
        message,
        "`renamedFrom` names `crm` on `customer.updated`, which the manifest declares"
    );
    assert!(help.unwrap().contains("declared at webhooks.yaml:7"));
}

#[test]
fn the_same_old_name_on_another_topic_is_not_declared() {
    let text = with_entry(&format!(
        "{}{}",
        entry("customer.updated", "crm-v2", "crm"),
        "  - topic: customer.ordered\n    name: crm\n    callbackUrl: https://a.example/\n"
    ));
    assert!(load(&text).is_ok());
}

#[test]
fn two_claims_on_one_old_name_are_refused() {
    let text = with_entry(&format!(
        "{}{}",
        entry("customer.updated", "a", "crm"),
        entry("customer.updated", "b", "[crm]")
    ));
    let (line, message, help) = problem(&text);
    assert_eq!(line, 10);
    assert_eq!(
        message,
        "`crm` on `customer.updated` is claimed by two `renamedFrom` entries"
    );
    assert!(help.unwrap().contains("also claimed at webhooks.yaml:6"));
}

#[test]
fn bad_old_names_are_refused() {
    for (renamed, line, message) in [
        ("\"\"", 6, "an old name in `renamedFrom` is empty"),
        ("[]", 6, "`renamedFrom` is empty"),
        ("[crm, crm]", 6, "`renamedFrom` lists `crm` twice"),
        (
            "42",
            6,
            "`renamedFrom` must be a string or a list of strings, found a number",
        ),
    ] {
        let (at, got, _) = problem(&with_entry(&entry("customer.updated", "crm-v2", renamed)));
        assert_eq!((at, got.as_str()), (line, message), "{renamed}");
    }
}
