//! `doctor`'s rules on the fake remote (paused clock) and on list answers:
//! the round trip never touches another subscription and says exactly
//! what it leaves, whatever fails; reports never hold a key or a URL secret.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use proptest::prelude::*;

use super::list;
use super::write::{round_trip, Ours};
use super::{json, text, Check, Measured, Merchant, Verdict};
use crate::api::Method;
use crate::apply::fake::{Fake, Fault};
use crate::apply::Stop;
use crate::fixtures::live;
use crate::model::LiveSubscription;

const LIMIT: Duration = Duration::from_secs(5);

/// Runs the round trip on `fake` with a paused clock, `stop` requested
/// after `stop_after` if given.
fn trip(fake: &Fake, stop_after: Option<Duration>) -> (Vec<Check>, Measured) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = Stop::default();
        if let Some(after) = stop_after {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                stop.request();
            });
        }
        let mut m = Measured::default();
        let ours = Ours::new(0xabc, "customer.updated", "https://hooks.example/doctor");
        let checks = round_trip(fake, ours, LIMIT, &stop, &mut m).await;
        (checks, m)
    })
}

fn names(checks: &[Check]) -> Vec<(&str, Verdict)> {
    checks.iter().map(|c| (c.name, c.status)).collect()
}

#[test]
fn a_round_trip_times_visibility_and_records_the_answer_for_an_id_gone() {
    let others = [live("o1", "customer.updated", "crm", "https://a.example/x")];
    let mut fake = Fake::new(&others);
    fake.visibility = Duration::from_millis(1200);
    let (checks, m) = trip(&fake, None);
    use Verdict::Ok;
    assert_eq!(
        names(&checks),
        [
            ("create", Ok),
            ("visibility", Ok),
            ("rename", Ok),
            ("delete", Ok),
            ("delete_again", Ok),
            ("cleanup", Ok)
        ]
    );
    assert_eq!(
        (m.visible_after_ms, m.suggested_wait, m.gone_status),
        (Some(1250), Some(8), Some(400))
    );
    assert!(checks[1].detail.contains("`--wait 8`"), "{:?}", checks[1]);
    assert_eq!(fake.state(), others);
}

#[test]
fn a_slow_store_gets_a_longer_wait_and_a_missing_create_fails() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(4);
    let slow = Duration::from_secs(60);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let (checks, m) = rt.block_on(async {
        let mut m = Measured::default();
        let ours = Ours::new(1, "customer.updated", "https://h.example/d");
        (round_trip(&fake, ours, slow, &Stop::default(), &mut m).await, m)
    });
    assert_eq!(m.suggested_wait, Some(13));
    assert_eq!(checks[1].status, Verdict::Ok);
    fake.visibility = Duration::from_secs(20);
    let (checks, _) = trip(&fake, None);
    assert_eq!(
        names(&checks),
        [
            ("create", Verdict::Ok),
            ("visibility", Verdict::Fail),
            ("cleanup", Verdict::Ok)
        ]
    );
    assert!(fake.state().is_empty(), "deleted by the id the create returned");
}

#[test]
fn a_lost_create_answer_is_found_by_name_and_removed() {
    let fake = Fake::new(&[]);
    fake.script(Method::POST, &[Fault::After(500)]);
    let (checks, _) = trip(&fake, None);
    assert_eq!(
        names(&checks),
        [("create", Verdict::Fail), ("cleanup", Verdict::Ok)]
    );
    assert!(fake.state().is_empty());
}

/// A create answered without an id, then no list read: the throwaway
/// exists, so the cleanup must say so (it once returned without a word).
#[test]
fn a_create_without_an_id_that_no_read_finds_is_named_by_the_cleanup() {
    let mut fake = Fake::new(&[]);
    fake.answers_ids = false;
    fake.script(Method::GET, &[Fault::Before(500); 4]);
    let (checks, _) = trip(&fake, None);
    assert_eq!(fake.state().len(), 1, "the create happened");
    let cleanup = checks.last().unwrap();
    assert_eq!((cleanup.name, cleanup.status), ("cleanup", Verdict::Fail));
    assert_eq!(
        cleanup.detail,
        "a create answered without an id may yet appear as `invhooks-doctor-000000000abc` on `customer.updated`"
    );
}

#[test]
fn a_cleanup_that_fails_names_what_is_left_with_its_id() {
    let fake = Fake::new(&[]);
    fake.script(Method::PUT, &[Fault::Before(500)]);
    fake.script(Method::DELETE, &[Fault::Before(500); 4]);
    let (checks, _) = trip(&fake, None);
    let cleanup = checks.last().unwrap();
    assert_eq!((cleanup.name, cleanup.status), ("cleanup", Verdict::Fail));
    assert_eq!(
        cleanup.detail,
        "left behind: `invhooks-doctor-000000000abc` on `customer.updated`, id `new_9999`"
    );
}

#[test]
fn an_interrupt_ends_the_trip_and_still_deletes() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(4);
    let (checks, _) = trip(&fake, Some(Duration::from_secs(1)));
    assert_eq!(
        names(&checks),
        [
            ("create", Verdict::Ok),
            ("interrupted", Verdict::Fail),
            ("cleanup", Verdict::Ok)
        ]
    );
    assert!(fake.state().is_empty());
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Before(400)),
        Just(Fault::Before(404)),
        Just(Fault::Before(500)),
        Just(Fault::After(500)),
        Just(Fault::DropAfter),
        Just(Fault::Untrusted),
    ]
}

fn others() -> impl Strategy<Value = Vec<LiveSubscription>> {
    let name = prop_oneof![
        Just("crm".to_owned()),
        Just("invhooks-doctor-other".to_owned()),
        Just("invhooks-doctor-000000000abd".to_owned()),
        "[a-z]{1,6}",
    ];
    let topic = prop_oneof![Just("customer.updated"), Just("customer.cancelled")];
    prop::collection::vec((name, topic), 0..5).prop_map(|subs| {
        subs.into_iter()
            .enumerate()
            .map(|(i, (name, topic))| live(&format!("o{i}"), topic, &name, "https://a.example/x"))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever fails and whenever it is interrupted, every other
    /// subscription is left as it was, and anything of ours still there is
    /// named by a failed `cleanup`, by id (or by name when no id is known).
    #[test]
    fn the_round_trip_touches_nothing_else_and_names_what_it_leaves(
        others in others(),
        scripts in prop::collection::vec(prop::collection::vec(fault(), 0..3), 4),
        visibility_ms in 0u64..7000,
        stop_ms in prop::option::of(0u64..8000),
        answers_ids: bool,
    ) {
        let mut fake = Fake::new(&others);
        fake.visibility = Duration::from_millis(visibility_ms);
        fake.answers_ids = answers_ids;
        for (method, faults) in [Method::GET, Method::POST, Method::PUT, Method::DELETE].into_iter().zip(&scripts) {
            fake.script(method, faults);
        }
        let (checks, _) = trip(&fake, stop_ms.map(Duration::from_millis));
        let state = fake.state();
        for other in &others {
            prop_assert!(state.contains(other), "{other:?} was touched: {state:?}");
        }
        let ours: Vec<&LiveSubscription> = state.iter().filter(|s| !others.contains(s)).collect();
        if !ours.is_empty() {
            let cleanup = checks.last().unwrap();
            prop_assert_eq!((cleanup.name, cleanup.status), ("cleanup", Verdict::Fail));
            for sub in ours {
                prop_assert!(
                    cleanup.detail.contains(&sub.id) || cleanup.detail.contains("invhooks-doctor-000000000abc"),
                    "{:?} not named: {}", sub, cleanup.detail
                );
            }
        }
    }

    /// No report of a list holds a URL secret or the key, whatever the
    /// URLs: both are masked before any text is made.
    #[test]
    fn reports_hold_no_key_and_no_url_secret(
        secret in "[A-Za-z0-9]{24}",
        path in "[a-z]{1,8}",
        bad in prop_oneof![Just(" "), Just("\t"), Just(""), Just("\\")],
    ) {
        let key = format!("sk-{secret}");
        crate::api::ApiKey::new(key.clone());
        let urls = [
            format!("https://user:{secret}@h.example/{path}{bad}"),
            format!("https://h.example/{path}?token={secret}{bad}"),
            format!("https://h.example/{key}/{path}{bad}"),
            format!("ftp://h.example/{path}?sig={secret}"),
        ];
        let items: Vec<serde_json::Value> = urls.iter().enumerate().map(|(i, url)| serde_json::json!({
            "id": i.to_string(), "topic": "customer.updated", "name": format!("n{i}"), "callbackUrl": url,
            "extra": 1,
        })).collect();
        let body = serde_json::to_vec(&serde_json::json!({"message": "ok", "data": items})).unwrap();
        let mut report = Merchant {
            merchant: "m".into(),
            ..Merchant::default()
        };
        let answer = (reqwest::StatusCode::OK, &reqwest::header::HeaderMap::new(), &body[..]);
        report.checks = list::read(answer, Duration::from_millis(5), "KEY", &mut report.measured);
        for out in [text(std::slice::from_ref(&report)), json(std::slice::from_ref(&report))] {
            prop_assert!(!out.contains(&secret) && !out.contains(&key), "{}", out);
        }
    }
}

#[test]
fn a_refused_key_reads_the_same_whether_400_401_or_403() {
    for status in [400u16, 401, 403] {
        let mut m = Measured::default();
        let status = reqwest::StatusCode::from_u16(status).unwrap();
        let body = br#"{"message":"bad key","data":{}}"#;
        let answer = (status, &reqwest::header::HeaderMap::new(), &body[..]);
        let checks = list::read(answer, Duration::ZERO, "KEY_A", &mut m);
        assert_eq!((checks[0].name, checks[0].status), ("get", Verdict::Fail));
        assert!(
            checks[0].detail.starts_with("the key was refused ("),
            "{:?}",
            checks[0]
        );
        assert!(checks[0].help.as_deref().unwrap().contains("`KEY_A`"));
    }
}

/// SPEC's key order: `{"format_version", "merchants": [{"merchant", "checks":
/// [{"name", "status", "detail", "help"}], "measured"}]}`.
#[test]
fn the_json_report_keeps_the_documented_key_order() {
    let report = Merchant {
        merchant: "acme".into(),
        checks: vec![Check::fail("create", "said", "do this")],
        measured: Measured::default(),
    };
    let out = json(&[report]);
    let at = |key: &str| out.find(&format!("\"{key}\"")).unwrap();
    let order = [
        "format_version",
        "merchants",
        "merchant",
        "checks",
        "name",
        "status",
        "detail",
        "help",
        "measured",
    ];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{out}");
}
