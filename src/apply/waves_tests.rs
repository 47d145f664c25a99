//! The rules of staged rollouts: sizes parsed strictly, waves cut in order
//! without overlap, canaries first, and the loop that never starts a wave
//! after a failed gate or a stop (examples on tokio's paused clock, and
//! properties over random sizes and runs).

use std::cell::RefCell;

use proptest::prelude::*;

use super::*;
use crate::apply::{ChangeReport, Outcome};

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i:03}")).collect()
}

fn sizes(text: &str) -> Sizes {
    Sizes::parse(text).unwrap()
}

#[test]
fn sizes_are_counts_or_percentages_and_cumulative() {
    assert_eq!(sizes(" 1, 10% ,100%").0, [(1, false), (10, true), (100, true)]);
    for (text, message) in [
        ("", "`` has an empty size"),
        ("1,,5", "`1,,5` has an empty size"),
        ("0,5", "`0`: a wave holds at least one merchant"),
        ("0%", "`0%`: a percentage is 1% to 100%"),
        ("150%", "`150%`: a percentage is 1% to 100%"),
        ("ten", "`ten` is not a count or a percentage"),
        ("1.5%", "`1.5%` is not a count or a percentage"),
        ("-1", "`-1` is not a count or a percentage"),
        ("5000000", "`5000000`: a count is at most 1000000"),
        (
            "10,5",
            "`10,5`: sizes are cumulative (merchants in all so far), so `5` after `10` adds nothing",
        ),
        ("50%,2,50%", "`50%` after `50%` adds nothing"),
        (
            "100%,5",
            "`100%,5`: `100%` is every merchant, so nothing can follow it",
        ),
    ] {
        let error = Sizes::parse(text).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
    }
    let text: String = (1..=21).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(
        Sizes::parse(&text).unwrap_err(),
        format!("`{text}` has 21 waves; at most 20")
    );
}

#[test]
fn sizes_cut_the_merchants_into_waves_rounding_percentages_down() {
    let cut = |text: &str, n: usize| -> (Vec<usize>, usize) {
        let (waves, sized) = sizes(text).split(labels(n));
        (waves.iter().map(Vec::len).collect(), sized)
    };
    assert_eq!(cut("1,10%,100%", 100), (vec![1, 9, 90], 3));
    assert_eq!(
        cut("1,10%,100%", 5),
        (vec![1, 4], 2),
        "10% of 5 is no store: that wave is left out"
    );
    assert_eq!(cut("1,50%,3,100%", 4), (vec![1, 1, 1, 1], 4));
    assert_eq!(
        cut("2,5", 3),
        (vec![2, 1], 2),
        "a count past the end takes what is left"
    );
    assert_eq!(
        cut("1,2", 5),
        (vec![1, 1, 3], 2),
        "stores past the last size: one more wave"
    );
    assert_eq!(cut("100%", 0), (vec![], 0));
    assert_eq!(Sizes::all().split(labels(3)), (vec![labels(3)], 1));
}

#[test]
fn canaries_come_first_then_every_merchant_by_label() {
    let order = order([("c", false), ("b", true), ("a", false), ("z", true)]);
    assert_eq!(order, ["b", "z", "a", "c"]);
}

/// Runs `waves` with `gate_fails` (the index of the wave whose gate fails)
/// and a stop requested while wave `stop_in` runs; what `run` was called
/// with, and the waves.
async fn rollout(
    waves: (Vec<Vec<String>>, usize),
    gate_fails: Option<usize>,
    stop_in: Option<usize>,
) -> (Vec<usize>, Vec<Wave>) {
    let stop = Stop::default();
    let called = RefCell::new(Vec::new());
    let done = roll_out(
        waves,
        Duration::from_secs(60),
        &stop,
        async |i, merchants: &[String]| {
            called.borrow_mut().push(i);
            assert!(!merchants.is_empty());
            if stop_in == Some(i) {
                stop.request();
            }
            match gate_fails == Some(i) {
                true => vec![GateFailure {
                    merchant: merchants[0].clone(),
                    url: None,
                    reason: "not converged".into(),
                }],
                false => Vec::new(),
            }
        },
    )
    .await;
    (called.into_inner(), done)
}

fn statuses(waves: &[Wave]) -> Vec<&'static str> {
    waves.iter().map(|w| w.status.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn waves_run_in_order_with_the_pause_between_them() {
    let started = tokio::time::Instant::now();
    let (called, waves) = rollout(sizes("1,2,100%").split(labels(4)), None, None).await;
    assert_eq!(called, [0, 1, 2]);
    assert_eq!(statuses(&waves), ["passed"; 3]);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(120),
        "two pauses, none before the first wave"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_gate_stops_the_rollout() {
    let (called, waves) = rollout(sizes("1,2,100%").split(labels(4)), Some(1), None).await;
    assert_eq!(called, [0, 1]);
    assert_eq!(statuses(&waves), ["passed", "failed", "not started"]);
    let failed = Rollout {
        gate: WaveGate::Check,
        waves,
        sized: 3,
        interrupted: false,
    };
    assert_eq!(
        failed.failed().map(|(i, f)| (i, f[0].merchant.as_str())),
        Some((1, "m001"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_wave_or_a_pause_starts_no_other_wave() {
    let (called, waves) = rollout(sizes("1,2,100%").split(labels(4)), None, Some(0)).await;
    assert_eq!(called, [0]);
    assert_eq!(statuses(&waves), ["interrupted", "not started", "not started"]);

    // A stop during the pause ends it at once.
    let stop = Stop::default();
    let started = tokio::time::Instant::now();
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            stop.request();
        })
    };
    let waves = roll_out(
        sizes("1,100%").split(labels(2)),
        Duration::from_secs(3600),
        &stop,
        async |_, _: &[String]| Vec::new(),
    )
    .await;
    stopper.await.unwrap();
    assert_eq!(statuses(&waves), ["passed", "not started"]);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

fn report(merchant: &str, outcome: Outcome, verification: Verification) -> MerchantReport {
    let m = crate::fixtures::manifest(vec![crate::fixtures::desired(
        "customer.updated",
        "crm",
        "https://a/",
    )]);
    let plan = crate::plan::diff_all([(&m, [].as_slice())], &Default::default());
    MerchantReport {
        merchant: merchant.into(),
        changes: vec![ChangeReport {
            change: plan.merchants[0].changes[0].clone(),
            outcome,
        }],
        cleaned_up: Vec::new(),
        verification,
        interrupted: false,
    }
}

#[test]
fn the_converge_gate_names_each_merchant_that_did_not_converge_and_why() {
    let reports = [
        report("a", Outcome::Done, Verification::Converged),
        report("b", Outcome::Failed("HTTP 400".into()), Verification::Converged),
        report(
            "c",
            Outcome::Done,
            Verification::Unknown {
                reason: "list failed".into(),
            },
        ),
    ];
    let found: Vec<(String, String)> = converge_failures(&reports)
        .into_iter()
        .map(|f| (f.merchant, f.reason))
        .collect();
    assert_eq!(
        found,
        [
            (
                "b".into(),
                "1 change(s) failed or skipped; first: HTTP 400".into()
            ),
            ("c".into(), "not verified: list failed".into())
        ]
    );
}

#[test]
fn the_probe_gates_name_the_merchant_and_the_masked_url() {
    let m = |label: &str, url: &str| crate::model::MerchantManifest {
        label: label.into(),
        ..crate::fixtures::manifest(vec![crate::fixtures::desired("customer.updated", "crm", url)])
    };
    let callbacks = check::callbacks(&[
        m("a", "https://down.example/?sig=s3cr3t"),
        m("b", "https://up.example/"),
    ]);
    let outcomes: Vec<check::CallbackReport> = callbacks
        .into_iter()
        .map(|callback| check::CallbackReport {
            result: match callback.url.contains("down") {
                true => Err(check::StepFailure::At(
                    check::Step::Tcp,
                    "connection refused".into(),
                )),
                false => Ok(200),
            },
            deliveries: Vec::new(),
            latency: Duration::ZERO,
            callback,
        })
        .collect();
    assert_eq!(
        probe_failures(&outcomes),
        [GateFailure {
            merchant: "a".into(),
            url: Some("https://down.example/?sig=***".into()),
            reason: "TCP: connection refused".into()
        }]
    );
}

fn arb_sizes() -> impl Strategy<Value = Sizes> {
    let size = prop_oneof![
        (1u32..30).prop_map(|n| (n, false)),
        (1u32..=100).prop_map(|n| (n, true))
    ];
    proptest::collection::vec(size, 1..6).prop_filter_map("not cumulative", |v| {
        let text: Vec<String> = v
            .iter()
            .map(|(n, percent)| format!("{n}{}", if *percent { "%" } else { "" }))
            .collect();
        Sizes::parse(&text.join(",")).ok()
    })
}

proptest! {
    /// Waves never overlap, keep the order, hold at least one merchant
    /// each, and cover every merchant when the last size is `100%`.
    #[test]
    fn waves_are_an_ordered_partition_of_the_merchants(sizes in arb_sizes(), n in 0usize..60) {
        let (waves, sized) = sizes.split(labels(n));
        prop_assert!(waves.iter().all(|w| !w.is_empty()));
        prop_assert_eq!(waves.concat(), labels(n));
        prop_assert!(sized <= sizes.0.len() && waves.len() <= sized + 1);
        if sizes.0.last() == Some(&(100, true)) {
            prop_assert_eq!(sized, waves.len());
        }
    }

    /// Exactly the waves up to the first one that failed its gate or saw
    /// a stop are run, in order; every later wave is not started.
    #[test]
    fn no_wave_starts_after_a_failed_gate_or_a_stop(
        sizes in arb_sizes(),
        n in 1usize..40,
        gate_fails in proptest::option::of(0usize..6),
        stop_in in proptest::option::of(0usize..6),
    ) {
        let waves = sizes.split(labels(n));
        let count = waves.1;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let (called, done) = runtime.block_on(rollout(waves, gate_fails, stop_in));
        let last = [gate_fails, stop_in].into_iter().flatten().filter(|&i| i < count).min();
        let expected: Vec<usize> = (0..last.map_or(count, |i| i + 1)).collect();
        prop_assert_eq!(&called, &expected);
        for (i, wave) in done.iter().enumerate() {
            let started = called.contains(&i);
            prop_assert_eq!(started, wave.status != WaveStatus::NotStarted);
            prop_assert!(i < count || !started, "a wave past the sizes started");
        }
    }
}
