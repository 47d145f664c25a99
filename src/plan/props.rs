//! Properties of [`super::diff`] over random desired and live states:
//! executing a plan on an in-memory model of the live state yields the
//! desired state (respecting `prune` and `ignore`), planning again yields no
//! changes, and ignored subscriptions never appear in a plan.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::apply::fake::Model;
use crate::fixtures::{ignore_name, location};

const TOPICS: [&str; 3] = ["customer.updated", "customer.ordered", "customer.cancelled"];
const NAMES: [&str; 3] = ["crm", "erp", "warehouse"];
const URLS: [&str; 3] = [
    "https://a.example/",
    "https://b.example/",
    "https://c.example/?t=1",
];

/// A manifest: a subset of keys with a URL each, prune on or off, and an
/// ignore rule for names starting `zap-`.
fn manifest() -> impl Strategy<Value = MerchantManifest> {
    (
        proptest::collection::btree_map((0..3usize, 0..3usize), 0..3usize, 0..9),
        any::<bool>(),
    )
        .prop_map(|(entries, prune)| MerchantManifest {
            label: "m".into(),
            file: "webhooks.yaml".into(),
            api_key_env: "K".into(),
            canary: false,
            prune,
            ignore: vec![ignore_name("zap-*")],
            subscriptions: entries
                .into_iter()
                .map(|((t, n), u)| DesiredSubscription {
                    topic: TOPICS[t].into(),
                    name: NAMES[n].into(),
                    callback_url: URLS[u].into(),
                    renamed_from: vec![],
                    masking: crate::secret::Masking::Full,
                    location: location(),
                })
                .collect(),
            allows: crate::model::Allows::default(),
        })
}

/// Live subscriptions with unique ids, duplicates of keys allowed, some
/// of them matched by the ignore rule.
fn live() -> impl Strategy<Value = Vec<LiveSubscription>> {
    proptest::collection::vec((0..3usize, 0..4usize, 0..3usize), 0..12).prop_map(|subs| {
        subs.into_iter()
            .enumerate()
            .map(|(i, (t, n, u))| LiveSubscription {
                id: format!("wh_{i:04}"),
                topic: TOPICS[t].into(),
                name: NAMES
                    .get(n)
                    .map_or_else(|| format!("zap-{i}"), |n| (*n).to_owned()),
                callback_url: URLS[u].into(),
            })
            .collect()
    })
}

/// Executes a plan the way the API would (the fake remote's model).
fn execute(plan: &MerchantPlan, live: &[LiveSubscription]) -> Vec<LiveSubscription> {
    let mut model = Model::new(live);
    for change in &plan.changes {
        assert!(model.apply(change), "{change:?} names an unknown id");
    }
    model.all()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn executing_a_plan_reaches_the_manifest(m in manifest(), live in live()) {
        let plan = diff(&m, &live);
        let after = execute(&plan, &live);

        // Every declared subscription exists exactly once with its URL.
        for want in &m.subscriptions {
            let copies: Vec<_> = after.iter().filter(|s| (&s.topic, &s.name) == (&want.topic, &want.name)).collect();
            prop_assert_eq!(copies.len(), 1);
            prop_assert_eq!(&copies[0].callback_url, &want.callback_url);
        }
        // Undeclared, in-scope subscriptions are gone when pruning, untouched otherwise.
        let declared = |s: &LiveSubscription| m.subscriptions.iter().any(|d| (&d.topic, &d.name) == (&s.topic, &s.name));
        for s in &live {
            if m.is_ignored(s) || declared(s) {
                continue;
            }
            prop_assert_eq!(after.contains(s), !m.prune);
        }
        // Ignored subscriptions are exactly as they were.
        for s in live.iter().filter(|s| m.is_ignored(s)) {
            prop_assert!(after.contains(s));
            prop_assert!(plan.changes.iter().all(|c| c.id() != Some(s.id.as_str())));
        }
        // Planning again finds nothing to do.
        let again = diff(&m, &after);
        prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
    }

    #[test]
    fn plans_do_not_depend_on_the_order_of_live(m in manifest(), mut live in live()) {
        let plan = diff(&m, &live);
        live.reverse();
        prop_assert_eq!(plan, diff(&m, &live));
    }
}
