#![allow(clippy::unwrap_used, reason = "tests")]

use std::path::Path;

use super::*;
use crate::digest::sha256;
use crate::fixtures::live;
use crate::manifest;
use crate::model::MerchantManifest;
use crate::plan::{self, Plan};
use crate::render::json::pretty;
use crate::secret::Keys;

const YAML: &str = "version: 1
merchant: acme
apiKeyEnv: KEY_ACME
ignore:
  - name: \"zapier-*\"
subscriptions:
  - {name: crm, topic: customer.updated, callbackUrl: \"https://crm.example/?t=${TOKEN}\"}
  - {name: erp, topic: customer.ordered, callbackUrl: \"https://erp.example/new\"}
";

fn fixture() -> (MerchantManifest, Vec<LiveSubscription>) {
    fixture_of(YAML)
}

fn fixture_of(yaml: &str) -> (MerchantManifest, Vec<LiveSubscription>) {
    let env = |name: &str| (name == "TOKEN").then(|| "s3cr3t".to_owned());
    let m = manifest::load_str(Path::new("webhooks.yaml"), yaml, &env).unwrap();
    let live = vec![
        live("wh_3", "customer.ordered", "erp", "https://erp.example/old"),
        live(
            "wh_1",
            "customer.updated",
            "zapier-x",
            "https://hooks.zapier.com/1",
        ),
        live("wh_2", "customer.cancelled", "stale", "https://stale.example/"),
    ];
    (m, live)
}

fn saved() -> SavedPlan {
    saved_of(YAML)
}

fn saved_of(yaml: &str) -> SavedPlan {
    let (m, live) = fixture_of(yaml);
    let (sha, thresholds) = (sha256(yaml.as_bytes()), plan::Thresholds::default());
    let merchant = SavedMerchant::new(&m, live, sha, "sha256:key".into(), &thresholds);
    SavedPlan::new(
        "9.9.9",
        "https://api.example/v2.0/",
        "salt".into(),
        vec![merchant],
    )
}

#[test]
fn the_live_fingerprint_ignores_order_but_nothing_else() {
    let (_, live) = fixture();
    let mut reversed = live.clone();
    reversed.reverse();
    assert_eq!(live_fingerprint(&live), live_fingerprint(&reversed));
    let mut other_id = live.clone();
    other_id[0].id = "wh_9".into();
    assert_ne!(live_fingerprint(&live), live_fingerprint(&other_id));
    let mut other_url = live.clone();
    other_url[1].callback_url.push('x');
    assert_ne!(live_fingerprint(&live), live_fingerprint(&other_url));
    assert_ne!(live_fingerprint(&live), live_fingerprint(&live[1..]));
    assert!(live_fingerprint(&[]).starts_with("sha256:"));
    assert_eq!(live_fingerprint(&[]).len(), 7 + 64);
}

#[test]
fn a_saved_plan_reads_back_as_written() {
    let saved = saved();
    let text = pretty(&saved);
    assert!(text.contains("s3cr3t"), "saved plans keep real values");
    let back = SavedPlan::parse(&text, "test").unwrap();
    let (m, now) = fixture();
    assert_eq!(
        back.plan(),
        Plan {
            merchants: vec![plan::diff(&m, &now)]
        }
    );
    assert_eq!(back.plan().merchants[0].summary.delete, 1);
    assert_eq!(pretty(&back.file), pretty(&saved));
    assert_eq!(
        live_fingerprint(&back.merchants[0].live),
        saved.merchants[0].live.fingerprint
    );
    let m = &back.merchants[0].manifest;
    assert_eq!(m.api_key_env, "KEY_ACME");
    assert!(m.is_ignored(&live("x", "customer.updated", "zapier-y", "https://z/")));
    assert_eq!(m.subscriptions[0].location.line, 7);
}

#[test]
fn not_json_or_truncated_is_refused() {
    let text = pretty(&saved());
    for broken in [&text[..text.len() / 2], "", "\u{0}garbage"] {
        assert!(matches!(
            SavedPlan::parse(broken, "test"),
            Err(PlanFileError::NotJson(_))
        ));
    }
}

#[test]
fn foreign_json_and_plan_output_are_told_apart() {
    let err = |text: &str| SavedPlan::parse(text, "test").unwrap_err();
    assert_eq!(err("{\"hello\": 1}"), PlanFileError::Foreign);
    assert_eq!(err("[1, 2]"), PlanFileError::Foreign);
    assert_eq!(
        err("{\"format_version\": \"1\", \"merchants\": []}"),
        PlanFileError::JsonOutput
    );
}

#[test]
fn another_format_version_is_refused_with_both_versions() {
    let text = pretty(&saved()).replacen("\"format_version\": \"2\"", "\"format_version\": \"3\"", 1);
    let err = SavedPlan::parse(&text, "0.1.0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "it has saved-plan format_version \"3\" (written by invhooks 9.9.9); this invhooks (0.1.0) reads format_version \"2\""
    );
}

#[test]
fn missing_or_unknown_keys_are_damage() {
    let text = pretty(&saved());
    let missing = text.replacen("\"api_key_env\": \"KEY_ACME\",", "", 1);
    assert!(matches!(
        SavedPlan::parse(&missing, "t"),
        Err(PlanFileError::Damaged(_))
    ));
    let unknown = text.replacen("\"base_url\"", "\"extra\": 1, \"base_url\"", 1);
    assert!(matches!(
        SavedPlan::parse(&unknown, "t"),
        Err(PlanFileError::Damaged(_))
    ));
}

#[test]
fn an_edited_plan_is_inconsistent() {
    let text = pretty(&saved());
    // Someone points an update somewhere else: the plan no longer follows
    // from the stored manifest.
    let at = text.rfind("https://erp.example/new").unwrap();
    let edited = format!("{}https://evil.example/{}", &text[..at], &text[at + 23..]);
    assert!(
        edited.contains("https://erp.example/new"),
        "the manifest keeps its URL"
    );
    let err = SavedPlan::parse(&edited, "t");
    assert!(
        matches!(&err, Err(PlanFileError::Inconsistent(m)) if m.contains("stored changes")),
        "{err:?}"
    );
    // A create given an id: a change whose keys do not fit its action.
    assert!(text.contains("\"id\": null"));
    let edited = text.replacen("\"id\": null", "\"id\": \"wh_3\"", 1);
    let err = SavedPlan::parse(&edited, "t");
    assert!(
        matches!(&err, Err(PlanFileError::Inconsistent(m)) if m.contains("stored changes")),
        "{err:?}"
    );
    // Someone edits the live list: the fingerprint gives it away.
    let edited = text.replace("https://stale.example/", "https://other.example/");
    let err = SavedPlan::parse(&edited, "t");
    assert!(
        matches!(&err, Err(PlanFileError::Inconsistent(m)) if m.contains("fingerprint")),
        "{err:?}"
    );
}

#[test]
fn live_changes_name_what_moved_with_masked_urls() {
    let (_, before) = fixture();
    let mut now = before.clone();
    now[0].callback_url = "https://erp.example/older".into();
    now[1].callback_url = "https://hooks.zapier.com/1?k=v".into();
    now.remove(2);
    now.push(live(
        "wh_4",
        "customer.updated",
        "new",
        "https://n.example/?token=x",
    ));
    assert_eq!(
        live_changes(&before, &now, 10, &Keys::none()),
        [
            "added customer.updated new [wh_4] https://n.example/?token=***",
            "changed customer.ordered erp [wh_3]: callback URL https://erp.example/old → https://erp.example/older",
            "changed customer.updated zapier-x [wh_1]: callback URL https://hooks.zapier.com/1 → https://hooks.zapier.com/1?k=***",
            "removed customer.cancelled stale [wh_2]",
        ]
    );
    assert_eq!(
        live_changes(&before, &now, 1, &Keys::none()),
        [
            "added customer.updated new [wh_4] https://n.example/?token=***",
            "… and 3 more",
        ]
    );
}

#[test]
fn the_manifest_digest_covers_paths_and_contents() {
    let digest = |files: &[(&str, &str)]| {
        let merchants = files.iter().map(|(file, bytes)| {
            let mut m = saved().merchants[0].clone();
            m.merchant = format!("m-{file}");
            m.manifest.file = (*file).to_owned();
            m.manifest.sha256 = sha256(bytes.as_bytes());
            m
        });
        SavedPlan::new("t", "u", "s".into(), merchants.collect()).manifest_digest
    };
    let a = digest(&[("a.yaml", "x")]);
    assert_ne!(a, digest(&[("b.yaml", "x")]));
    assert_ne!(a, digest(&[("a.yaml", "y")]));
    assert_eq!(
        digest(&[("a", "1"), ("b", "2")]),
        digest(&[("b", "2"), ("a", "1")])
    );
}

#[test]
fn another_key_is_refused_and_the_same_key_is_not() {
    let text = pretty(&saved());
    let loaded = SavedPlan::parse(&text, "t").unwrap();
    assert_eq!(loaded.other_key(&["sha256:key".into()], "plan.json"), None);
    let reasons = loaded.other_key(&["sha256:other".into()], "plan.json").unwrap();
    assert_eq!(
        reasons[0],
        "plan `plan.json` was saved for another API key: merchant `acme` (`KEY_ACME`); nothing was changed"
    );
}

#[test]
fn mask_path_secrets_false_is_saved_and_read_back() {
    use crate::secret::Masking;
    let yaml = YAML.replace("/new\"}", "/new\", maskPathSecrets: false}");
    let text = pretty(&saved_of(&yaml));
    assert_eq!(text.matches("\"maskPathSecrets\": false").count(), 2, "{text}");
    assert!(!text.contains("\"maskPathSecrets\": true"), "absent when default");
    let back = SavedPlan::parse(&text, "test").unwrap();
    let masking: Vec<(String, Masking)> = back.plan().merchants[0]
        .changes
        .iter()
        .map(|c| (c.name().to_owned(), c.masking()))
        .collect();
    assert!(
        masking.contains(&("erp".to_owned(), Masking::KeepPath)),
        "{masking:?}"
    );
    assert!(
        masking.contains(&("crm".to_owned(), Masking::Full)),
        "{masking:?}"
    );
    assert_eq!(
        back.merchants[0].manifest.subscriptions[1].masking,
        Masking::KeepPath
    );
    // Only the manifest's switch edited: the stored plan no longer matches.
    let mut edited: serde_json::Value = serde_json::from_str(&text).unwrap();
    let subscriptions = &mut edited["merchants"][0]["manifest"]["subscriptions"];
    subscriptions[1]
        .as_object_mut()
        .unwrap()
        .remove("maskPathSecrets");
    assert!(matches!(
        SavedPlan::parse(&edited.to_string(), "test"),
        Err(PlanFileError::Inconsistent(_))
    ));
}

#[test]
fn a_bad_ignore_glob_is_damage() {
    let text = pretty(&saved());
    assert_eq!(text.matches("\"zapier-*\"").count(), 1);
    let err = SavedPlan::parse(&text.replace("\"zapier-*\"", "\"zapier-[\""), "t").unwrap_err();
    assert!(
        matches!(&err, PlanFileError::Damaged(m) if m.starts_with("merchant `acme`: ignore glob `zapier-[`")),
        "{err:?}"
    );
}
