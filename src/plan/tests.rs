//! Unit tests for [`super::diff`]: one per rule of README "Plan semantics".
#![allow(clippy::unwrap_used)]

use super::*;
use crate::fixtures::{desired, ignore_name, live, manifest, renamed};
use crate::model::{IgnoreRule, Location, Pattern};

fn actions(plan: &MerchantPlan) -> Vec<(Action, &str, Option<&str>, bool)> {
    plan.changes
        .iter()
        .map(|c| (c.action(), c.name(), c.id(), c.is_duplicate()))
        .collect()
}

const A: &str = "https://a.example/hook";
const B: &str = "https://b.example/hook";

#[test]
fn desired_not_live_is_a_create() {
    let plan = diff(&manifest(vec![desired("customer.updated", "crm", A)]), &[]);
    assert_eq!(actions(&plan), [(Action::Create, "crm", None, false)]);
    assert_eq!(plan.changes[0].after().unwrap().callback_url, A);
    assert_eq!(plan.summary.create, 1);
}

#[test]
fn changed_url_is_an_update_of_the_live_id() {
    let plan = diff(
        &manifest(vec![desired("customer.updated", "crm", B)]),
        &[live("wh_1", "customer.updated", "crm", A)],
    );
    assert_eq!(actions(&plan), [(Action::Update, "crm", Some("wh_1"), false)]);
    let change = &plan.changes[0];
    assert_eq!(change.before().unwrap().callback_url, A);
    assert_eq!(change.after().unwrap().callback_url, B);
}

/// Validation refuses a (topic, name) declared twice; a manifest built
/// without it still plans each key once, from its last declaration.
#[test]
fn a_key_declared_twice_is_planned_once_from_its_last_declaration() {
    let twice = manifest(vec![
        desired("customer.updated", "crm", A),
        desired("customer.updated", "crm", B),
    ]);
    let plan = diff(&twice, &[live("wh_1", "customer.updated", "crm", A)]);
    assert_eq!(actions(&plan), [(Action::Update, "crm", Some("wh_1"), false)]);
    assert_eq!(plan.changes[0].after().unwrap().callback_url, B);
    let plan = diff(&twice, &[]);
    assert_eq!(actions(&plan), [(Action::Create, "crm", None, false)]);
    assert_eq!(plan.changes[0].after().unwrap().callback_url, B);
}

#[test]
fn equal_is_unchanged() {
    let plan = diff(
        &manifest(vec![desired("customer.updated", "crm", A)]),
        &[live("wh_1", "customer.updated", "crm", A)],
    );
    assert!(plan.changes.is_empty());
    assert_eq!(plan.summary.unchanged, 1);
}

#[test]
fn undeclared_live_is_deleted_when_pruning() {
    let plan = diff(&manifest(vec![]), &[live("wh_1", "customer.updated", "old", A)]);
    assert_eq!(actions(&plan), [(Action::Delete, "old", Some("wh_1"), false)]);
}

#[test]
fn undeclared_live_is_unmanaged_without_prune() {
    let mut m = manifest(vec![]);
    m.prune = false;
    let plan = diff(&m, &[live("wh_1", "customer.updated", "old", A)]);
    assert!(plan.changes.is_empty());
    assert_eq!(plan.summary.unmanaged, 1);
    assert_eq!(plan.unmanaged[0].id, "wh_1");
    assert_eq!(plan.safety, None, "nothing is deleted, so nothing is unsafe");
}

#[test]
fn ignored_live_is_counted_and_never_touched() {
    let mut m = manifest(vec![]);
    m.ignore.push(IgnoreRule {
        name: Some(Pattern::new("zapier-*").unwrap()),
        topic: None,
        callback_url: None,
        location: Location {
            file: "webhooks.yaml".into(),
            line: 3,
        },
    });
    let plan = diff(
        &m,
        &[
            live("wh_1", "customer.updated", "zapier-1", A),
            live("wh_2", "customer.updated", "other", A),
        ],
    );
    assert_eq!(actions(&plan), [(Action::Delete, "other", Some("wh_2"), false)]);
    assert_eq!(plan.summary.ignored, 1);
}

#[test]
fn duplicates_keep_the_matching_one() {
    let plan = diff(
        &manifest(vec![desired("customer.updated", "crm", B)]),
        &[
            live("wh_1", "customer.updated", "crm", A),
            live("wh_2", "customer.updated", "crm", B),
            live("wh_3", "customer.updated", "crm", B),
        ],
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Delete, "crm", Some("wh_1"), true),
            (Action::Delete, "crm", Some("wh_3"), true)
        ]
    );
    assert_eq!(plan.summary.unchanged, 1);
}

#[test]
fn duplicates_without_a_match_update_the_lowest_id() {
    let plan = diff(
        &manifest(vec![desired("customer.updated", "crm", B)]),
        &[
            live("wh_2", "customer.updated", "crm", A),
            live("wh_1", "customer.updated", "crm", A),
        ],
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Update, "crm", Some("wh_1"), false),
            (Action::Delete, "crm", Some("wh_2"), true)
        ]
    );
}

#[test]
fn topic_change_is_create_plus_delete() {
    let plan = diff(
        &manifest(vec![desired("customer.cancelled", "crm", A)]),
        &[live("wh_1", "customer.updated", "crm", A)],
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "crm", None, false),
            (Action::Delete, "crm", Some("wh_1"), false)
        ]
    );
}

#[test]
fn order_is_deterministic_whatever_the_input_order() {
    let m = manifest(vec![
        desired("customer.updated", "b", A),
        desired("customer.cancelled", "z", A),
        desired("customer.updated", "a", A),
    ]);
    let mut lives = vec![
        live("wh_9", "customer.ordered", "x", A),
        live("wh_8", "customer.cancelled", "y", A),
    ];
    let first = diff(&m, &lives);
    lives.reverse();
    assert_eq!(first, diff(&m, &lives));
    let keys: Vec<_> = first.changes.iter().map(|c| (c.topic(), c.name())).collect();
    assert_eq!(
        keys,
        [
            ("customer.cancelled", "y"),
            ("customer.cancelled", "z"),
            ("customer.ordered", "x"),
            ("customer.updated", "a"),
            ("customer.updated", "b"),
        ]
    );
}

/// Ten live subscriptions `n0`…`n9` of one topic.
fn ten_live() -> Vec<LiveSubscription> {
    (0..10)
        .map(|i| live(&format!("wh_{i}"), "customer.updated", &format!("n{i}"), A))
        .collect()
}

/// A manifest keeping the first `n` of [`ten_live`] (more adds creates).
fn keep(n: usize) -> MerchantManifest {
    manifest(
        (0..n)
            .map(|i| desired("customer.updated", &format!("n{i}"), A))
            .collect(),
    )
}

#[test]
fn safety_trips_above_thirty_percent_of_ten_or_more() {
    let lives = ten_live();
    assert_eq!(diff(&keep(7), &lives).safety, None, "3 of 10 is exactly 30%");
    assert_eq!(
        diff(&keep(6), &lives).safety,
        Some(SafetyTrip::MassChange {
            changed: 4,
            in_scope: 10,
            max_percent: 30,
        })
    );
    assert_eq!(
        diff(&keep(0), &lives[..9]).safety,
        Some(SafetyTrip::EmptyManifest { deleted: 9 })
    );
    assert_eq!(diff(&keep(5), &lives[..9]).safety, None, "fewer than 10 in scope");
}

#[test]
fn many_creates_where_many_are_live_trip_safety_too() {
    // A list cut at 10 of 20 makes the other 10 look missing: 10 creates
    // where 10 are live is a mass change, like a mass delete.
    let lives: Vec<_> = (0..10)
        .map(|i| live(&format!("wh_{i}"), "customer.updated", &format!("n{i}"), A))
        .collect();
    let wants = |n: usize| {
        manifest(
            (0..n)
                .map(|i| desired("customer.updated", &format!("n{i}"), A))
                .collect(),
        )
    };
    assert_eq!(
        diff(&wants(13), &lives).safety,
        None,
        "3 creates of 10 is exactly 30%"
    );
    assert_eq!(
        diff(&wants(20), &lives).safety,
        Some(SafetyTrip::MassCreate {
            created: 10,
            in_scope: 10,
            max_percent: 30,
        })
    );
    assert_eq!(
        diff(&wants(20), &lives[..9]).safety,
        None,
        "fewer than 10 in scope"
    );
    let trip = diff(&wants(20), &lives).safety.unwrap().to_string();
    assert!(
        trip.starts_with("the plan creates 10 subscriptions where 10 are live (100%)"),
        "{trip}"
    );
}

#[test]
fn plans_for_several_merchants_sort_by_label() {
    let mut b = manifest(vec![]);
    b.label = "b".into();
    let mut a = manifest(vec![]);
    a.label = "a".into();
    let plan = diff_all([(&b, &[][..]), (&a, &[][..])], &Thresholds::default());
    let labels: Vec<_> = plan.merchants.iter().map(|m| m.merchant.as_str()).collect();
    assert_eq!(labels, ["a", "b"]);
    assert!(!plan.has_changes());
}

#[test]
fn thresholds_replace_the_built_in_limits() {
    let lives = ten_live();
    let strict = Thresholds {
        min_in_scope: 5,
        max_change_percent: 10,
        ..Thresholds::default()
    };
    assert_eq!(diff_with(&keep(8), &lives, &Thresholds::default()).safety, None);
    assert_eq!(
        diff_with(&keep(8), &lives, &strict).safety,
        Some(SafetyTrip::MassChange {
            changed: 2,
            in_scope: 10,
            max_percent: 10,
        })
    );
    let counts = Thresholds {
        max_deletes: Some(1),
        max_creates: Some(0),
        ..Thresholds::default()
    };
    assert_eq!(
        diff_with(&keep(8), &lives, &counts).safety,
        Some(SafetyTrip::TooManyDeletes { deleted: 2, max: 1 })
    );
    assert_eq!(
        diff_with(&keep(11), &lives, &counts).safety,
        Some(SafetyTrip::TooManyCreates { created: 1, max: 0 })
    );
    assert_eq!(
        diff(&keep(8), &lives),
        diff_with(&keep(8), &lives, &Thresholds::default())
    );
}

const T: &str = "customer.updated";

/// The (id, old name, new name, new URL) of each update.
fn renames(plan: &MerchantPlan) -> Vec<(&str, &str, &str, &str)> {
    plan.changes
        .iter()
        .filter_map(|c| match c {
            Change::Update { id, before, after } => Some((
                id.as_str(),
                before.name.as_str(),
                after.name.as_str(),
                after.callback_url.as_str(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn renamed_from_a_live_name_is_one_update_of_its_id() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", A, &["crm"])]),
        &[live("wh_1", T, "crm", A)],
    );
    assert_eq!(actions(&plan), [(Action::Update, "crm", Some("wh_1"), false)]);
    assert_eq!(renames(&plan), [("wh_1", "crm", "crm-v2", A)]);
    assert_eq!(
        (plan.summary.create, plan.summary.delete, plan.summary.update),
        (0, 0, 1)
    );
    assert!(plan.renames_applied.is_empty());
}

#[test]
fn a_rename_also_carries_a_changed_url() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", B, &["old", "crm"])]),
        &[live("wh_1", T, "crm", A)],
    );
    assert_eq!(renames(&plan), [("wh_1", "crm", "crm-v2", B)]);
}

#[test]
fn a_rename_only_takes_the_same_topic() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", A, &["crm"])]),
        &[live("wh_1", "customer.joined", "crm", A)],
    );
    let mut got = actions(&plan);
    got.sort();
    assert_eq!(
        got,
        [
            (Action::Create, "crm-v2", None, false),
            (Action::Delete, "crm", Some("wh_1"), false)
        ]
    );
}

#[test]
fn old_and_new_both_live_deletes_the_old_one_and_notes_nothing() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", A, &["crm"])]),
        &[live("wh_1", T, "crm", A), live("wh_2", T, "crm-v2", A)],
    );
    assert_eq!(actions(&plan), [(Action::Delete, "crm", Some("wh_1"), false)]);
    assert!(plan.renames_applied.is_empty());
}

#[test]
fn an_ignored_old_name_is_not_renamed() {
    let mut m = manifest(vec![renamed(T, "crm-v2", A, &["zap-crm"])]);
    m.ignore = vec![ignore_name("zap-*")];
    let plan = diff(&m, &[live("wh_1", T, "zap-crm", A)]);
    assert_eq!(actions(&plan), [(Action::Create, "crm-v2", None, false)]);
    assert_eq!(plan.summary.ignored, 1);
}

#[test]
fn a_rename_applies_without_prune() {
    let mut m = manifest(vec![renamed(T, "crm-v2", A, &["crm"])]);
    m.prune = false;
    let plan = diff(&m, &[live("wh_1", T, "crm", A)]);
    assert_eq!(renames(&plan), [("wh_1", "crm", "crm-v2", A)]);
    assert!(plan.unmanaged.is_empty());
}

#[test]
fn duplicate_old_copies_rename_the_one_kept_and_delete_the_rest() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", B, &["crm"])]),
        &[
            live("wh_1", T, "crm", A),
            live("wh_2", T, "crm", B),
            live("wh_3", T, "crm", A),
        ],
    );
    assert_eq!(renames(&plan), [("wh_2", "crm", "crm-v2", B)]);
    let mut deleted: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.is_duplicate())
        .map(|c| c.id())
        .collect();
    deleted.sort();
    assert_eq!(deleted, [Some("wh_1"), Some("wh_3")]);
    // No URL matches: the lowest id is kept.
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", B, &["crm"])]),
        &[live("wh_3", T, "crm", A), live("wh_1", T, "crm", A)],
    );
    assert_eq!(renames(&plan), [("wh_1", "crm", "crm-v2", B)]);
}

#[test]
fn two_claims_on_one_old_name_resolve_by_key_order() {
    let plan = diff(
        &manifest(vec![renamed(T, "b", A, &["crm"]), renamed(T, "a", A, &["crm"])]),
        &[live("wh_1", T, "crm", A)],
    );
    assert_eq!(renames(&plan), [("wh_1", "crm", "a", A)]);
    assert_eq!(plan.summary.create, 1);
}

#[test]
fn an_old_name_that_is_declared_is_never_taken() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", A, &["crm"]), desired(T, "crm", A)]),
        &[live("wh_1", T, "crm", A)],
    );
    assert_eq!(actions(&plan), [(Action::Create, "crm-v2", None, false)]);
}

#[test]
fn an_applied_rename_is_noted_and_is_no_change() {
    let plan = diff(
        &manifest(vec![renamed(T, "crm-v2", A, &["crm"])]),
        &[live("wh_1", T, "crm-v2", A)],
    );
    assert!(plan.changes.is_empty());
    assert_eq!(plan.renames_applied.len(), 1);
    assert_eq!(
        (
            plan.renames_applied[0].name.as_str(),
            plan.renames_applied[0].from.as_str()
        ),
        ("crm-v2", "crm")
    );
}
