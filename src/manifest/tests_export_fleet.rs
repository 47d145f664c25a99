//! Tests of `export --store` (README.md "Export a fleet"): what becomes one
//! shared entry, what becomes `${VAR}` with per-store `vars`, what is
//! refused and how the refusal reads. Every accepted export is loaded
//! back and must declare exactly each store's live subscriptions.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::{load_str_all, to_fleet, Exported, FleetError, StoreLive};
use crate::fixtures::live;
use crate::model::LiveSubscription;

/// A store: label, key variable, (topic, name, url) sorted.
type Store<'a> = (&'a str, &'a str, Vec<LiveSubscription>);

fn store<'a>(label: &'a str, var: &'a str, subs: &[(&str, &str, &str)]) -> Store<'a> {
    let mut live: Vec<LiveSubscription> = subs
        .iter()
        .enumerate()
        .map(|(i, (t, n, u))| live(&format!("wh_{label}_{i}"), t, n, u))
        .collect();
    live.sort_by(|a, b| (&a.topic, &a.name, &a.id).cmp(&(&b.topic, &b.name, &b.id)));
    (label, var, live)
}

fn export(stores: &[Store<'_>]) -> Result<Exported, FleetError> {
    let lives: Vec<StoreLive<'_>> = stores
        .iter()
        .map(|(label, api_key_env, live)| StoreLive {
            label,
            api_key_env,
            live,
        })
        .collect();
    to_fleet(&lives, &|text| text.contains("sk_live_KEY"))
}

/// The export, checked to load and to declare each store's live list.
fn exported(stores: &[Store<'_>]) -> String {
    let out = export(stores).unwrap();
    let loaded = load_str_all(Path::new("fleet.yaml"), &out.yaml, &|_| None).unwrap();
    assert_eq!(loaded.len(), stores.len());
    for (label, var, live) in stores {
        let m = loaded.iter().find(|m| m.label == *label).unwrap();
        assert_eq!(&m.api_key_env, var);
        let declared: Vec<_> = m
            .subscriptions
            .iter()
            .map(|s| (&s.topic, &s.name, &s.callback_url))
            .collect();
        let mut want: Vec<_> = live
            .iter()
            .map(|s| (&s.topic, &s.name, &s.callback_url))
            .collect();
        want.dedup_by(|a, b| (a.0, a.1) == (b.0, b.1));
        assert_eq!(declared, want, "merchant `{label}`:\n{}", out.yaml);
    }
    out.yaml.split_once('\n').unwrap().1.to_owned()
}

fn refused(stores: &[Store<'_>]) -> Vec<String> {
    match export(stores) {
        Err(FleetError::Refused(lines)) => lines,
        other => panic!("not refused: {other:?}"),
    }
}

const CANCEL: &str = "customer.cancelled";
const UPDATED: &str = "customer.updated";

#[test]
fn identical_stores_share_every_entry_and_have_no_vars() {
    let subs = [
        (UPDATED, "crm", "https://crm.example/hook"),
        (CANCEL, "crm", "https://crm.example/c"),
    ];
    let yaml = exported(&[store("b", "KEY_B", &subs), store("a", "KEY_A", &subs)]);
    insta::assert_snapshot!(yaml, @r"
    version: 1
    merchants:
    - merchant: a
      apiKeyEnv: KEY_A
    - merchant: b
      apiKeyEnv: KEY_B
    subscriptions:
    - name: crm
      topic: customer.cancelled
      callbackUrl: https://crm.example/c
    - name: crm
      topic: customer.updated
      callbackUrl: https://crm.example/hook
    ");
}

#[test]
fn the_label_and_the_host_become_variables_used_wherever_the_same_values_appear() {
    fn of(label: &'static str, host: &str) -> Store<'static> {
        store(
            label,
            if label == "store-a" { "KEY_A" } else { "KEY_B" },
            &[
                (
                    CANCEL,
                    "crm",
                    &format!("https://{host}/inveterate/{label}/cancel"),
                ),
                (
                    UPDATED,
                    "crm",
                    &format!("https://{host}/inveterate/{label}/update"),
                ),
                (UPDATED, "erp", &format!("https://erp.example/{label}?x=1")),
            ],
        )
    }
    let yaml = exported(&[
        of("store-a", "crm-a.example.com"),
        of("store-b", "hooks.b.example"),
    ]);
    insta::assert_snapshot!(yaml, @r"
    version: 1
    merchants:
    - merchant: store-a
      apiKeyEnv: KEY_A
      vars:
        HOST: crm-a.example.com
        MERCHANT: store-a
    - merchant: store-b
      apiKeyEnv: KEY_B
      vars:
        HOST: hooks.b.example
        MERCHANT: store-b
    subscriptions:
    - name: crm
      topic: customer.cancelled
      callbackUrl: https://${HOST}/inveterate/${MERCHANT}/cancel
    - name: crm
      topic: customer.updated
      callbackUrl: https://${HOST}/inveterate/${MERCHANT}/update
    - name: erp
      topic: customer.updated
      callbackUrl: https://erp.example/${MERCHANT}?x=1
    ");
}

#[test]
fn a_part_of_a_host_or_a_query_value_becomes_a_variable_cut_at_punctuation() {
    let yaml = exported(&[
        store(
            "one",
            "K1",
            &[(CANCEL, "crm", "https://crm-eu.acme.dev/h?store=17&v=2")],
        ),
        store(
            "two",
            "K2",
            &[(CANCEL, "crm", "https://crm-us.acme.dev/h?store=42&v=2")],
        ),
        store(
            "three",
            "K3",
            &[(CANCEL, "crm", "https://crm-us.acme.dev/h?store=43&v=2")],
        ),
    ]);
    assert!(
        yaml.contains("callbackUrl: https://crm-${HOST_PART}.acme.dev/h?store=${PART}&v=2"),
        "{yaml}"
    );
    assert!(
        yaml.contains("HOST_PART: eu\n") && yaml.contains("PART: \"43\"\n"),
        "{yaml}"
    );
}

#[test]
fn literal_dollars_stay_literal_next_to_a_variable() {
    exported(&[
        store(
            "a",
            "KA",
            &[(CANCEL, "n ${x}", "https://h.example/$a/${lit}/a$/x")],
        ),
        store(
            "b",
            "KB",
            &[(CANCEL, "n ${x}", "https://h.example/$b/${lit}/b$/x")],
        ),
    ]);
    exported(&[
        store("a", "KA", &[(CANCEL, "n", "https://h.example/p$a")]),
        store("b", "KB", &[(CANCEL, "n", "https://h.example/p$b")]),
    ]);
}

#[test]
fn a_variable_name_never_takes_a_key_variable() {
    let yaml = exported(&[
        store("a", "HOST", &[(CANCEL, "n", "https://one.test/")]),
        store("b", "MERCHANT", &[(CANCEL, "n", "https://second.example/")]),
    ]);
    assert!(yaml.contains("callbackUrl: https://${HOST_2}/"), "{yaml}");
}

#[test]
fn a_store_missing_a_subscription_or_having_one_more_is_named_against_the_first() {
    let lines = refused(&[
        store(
            "a",
            "KA",
            &[
                (CANCEL, "crm", "https://x.example/"),
                (UPDATED, "crm", "https://x.example/"),
            ],
        ),
        store("b", "KB", &[(CANCEL, "crm", "https://x.example/")]),
        store(
            "c",
            "KC",
            &[
                (CANCEL, "crm", "https://x.example/"),
                (UPDATED, "crm", "https://x.example/"),
                (UPDATED, "zap", "https://z.example/"),
            ],
        ),
    ]);
    assert_eq!(
        lines,
        [
            "`b` has no `crm` on `customer.updated`; `a` does",
            "`c` has `zap` on `customer.updated`; `a` does not",
        ]
    );
}

#[test]
fn urls_that_differ_beyond_per_store_parts_are_refused_with_both_masked() {
    let lines = refused(&[
        store("a", "KA", &[(CANCEL, "crm", "https://crm.example/hook")]),
        store("b", "KB", &[(CANCEL, "crm", "https://crm.example/hook")]),
        store(
            "c",
            "KC",
            &[(
                CANCEL,
                "crm",
                "https://hooks.zapier.com/hooks/catch/123/abcdef0123456789abcdef",
            )],
        ),
    ]);
    assert_eq!(
        lines,
        ["`c` has another callback URL than `a` for `crm` on `customer.cancelled` (`https://hooks.zapier.com/hooks/catch/***/***`, `https://crm.example/hook`), not one that differs only in per-store parts"]
    );
}

#[test]
fn a_value_holding_a_key_is_refused_not_split_into_vars() {
    let lines = refused(&[
        store(
            "a",
            "KA",
            &[(CANCEL, "crm", "https://x.example/?t=sk_live_KEY_A")],
        ),
        store(
            "b",
            "KB",
            &[(CANCEL, "crm", "https://x.example/?t=sk_live_KEY_B")],
        ),
    ]);
    assert_eq!(
        lines,
        [
            "`a` has an API key in `crm` on `customer.cancelled`",
            "`b` has an API key in `crm` on `customer.cancelled`",
        ]
    );
}

#[test]
fn duplicates_are_left_out_with_a_warning_naming_the_store() {
    let out = export(&[
        store(
            "a",
            "KA",
            &[
                (CANCEL, "crm", "https://x.example/"),
                (CANCEL, "crm", "https://x.example/"),
            ],
        ),
        store("b", "KB", &[(CANCEL, "crm", "https://x.example/")]),
    ])
    .unwrap();
    assert_eq!(out.written, 1);
    assert_eq!(out.warnings.len(), 1);
    assert!(
        out.warnings[0].starts_with("merchant `a`: duplicate `crm`"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn http_and_unknown_topics_switch_on_for_all_when_one_store_needs_them() {
    let yaml = exported(&[
        store("a", "KA", &[("customer.brand_new", "n", "http://x.example/a")]),
        store("b", "KB", &[("customer.brand_new", "n", "http://x.example/b")]),
    ]);
    assert!(
        yaml.contains("allowHttp: true\nallowUnknownTopics: true\n"),
        "{yaml}"
    );
}

#[test]
fn stores_with_nothing_live_export_an_empty_list() {
    let yaml = exported(&[store("a", "KA", &[]), store("b", "KB", &[])]);
    assert!(yaml.ends_with("subscriptions: []\n"), "{yaml}");
}

mod props {
    use proptest::prelude::*;

    use super::{export, store, FleetError, Path};
    use crate::manifest::load_str_all;

    const PARTS: [&str; 12] = [
        "a", "b", "a-b", "x.y", "$", "${", "$a", "{", "é", "a=1", "", "b.a",
    ];

    /// URLs from a few parts, so stores often share most of them.
    fn url() -> impl Strategy<Value = String> {
        let part = prop::sample::select(PARTS.to_vec());
        let sep = prop::sample::select(vec!["/", "?", "&", "#", "."]);
        prop::collection::vec((part, sep), 1..5).prop_map(|pieces| {
            let path: String = pieces.into_iter().map(|(p, s)| format!("{p}{s}")).collect();
            format!("https://h.example/{path}")
        })
    }

    /// URLs of one shape (the same separators), any parts between them.
    fn same_shape() -> impl Strategy<Value = Vec<String>> {
        (1..5usize).prop_flat_map(|n| {
            let seps = prop::collection::vec(prop::sample::select(vec!["/", "?", "&", "#"]), n);
            let parts = prop::collection::vec(
                prop::collection::vec(prop::sample::select(PARTS.to_vec()), n),
                2..4,
            );
            (seps, parts).prop_map(|(seps, stores)| {
                let url = |parts: &Vec<&str>| {
                    let path: String = parts.iter().zip(&seps).map(|(p, s)| format!("{p}{s}")).collect();
                    format!("https://{}.example/{path}", parts[0])
                };
                stores.iter().map(url).collect()
            })
        })
    }

    /// One subscription per store with `urls`, exported and loaded back:
    /// `None` when refused, else each store's declared URL.
    fn round_trip(urls: &[String]) -> Result<Option<Vec<String>>, TestCaseError> {
        let labels = ["a", "b", "c"];
        let vars = ["KA", "KB", "KC"];
        let stores: Vec<_> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| store(labels[i], vars[i], &[("customer.cancelled", "n", u)]))
            .collect();
        match export(&stores) {
            Err(FleetError::Refused(lines)) => {
                prop_assert_eq!(lines.len(), 1);
                Ok(None)
            }
            Err(e) => Err(TestCaseError::fail(e.to_string())),
            Ok(out) => {
                let loaded = load_str_all(Path::new("f.yaml"), &out.yaml, &|_| None);
                let loaded = loaded.map_err(|d| TestCaseError::fail(format!("{d}\n{}", out.yaml)))?;
                Ok(Some(
                    loaded
                        .iter()
                        .map(|m| m.subscriptions[0].callback_url.clone())
                        .collect(),
                ))
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// An export is refused, or it loads back to each store's URL exactly.
        #[test]
        fn an_accepted_export_declares_each_stores_url_exactly(urls in prop::collection::vec(url(), 2..4)) {
            if let Some(declared) = round_trip(&urls)? {
                prop_assert_eq!(declared, urls);
            }
        }

        /// URLs of one shape are never refused, and load back exactly.
        #[test]
        fn urls_of_one_shape_are_always_one_template(urls in same_shape()) {
            prop_assert_eq!(round_trip(&urls)?, Some(urls));
        }
    }
}
