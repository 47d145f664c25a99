//! Chaos with interrupts: the real binary applies a random manifest
//! against the faulty sandbox, and at a seeded random moment — while its
//! k-th write (k random among the planned ones) is in flight, plus a
//! random delay — gets SIGINT or SIGTERM. For every interrupted seed: exit
//! 1, a report marked interrupted that lists every planned change once as
//! `done`, `failed`, `skipped` or `not started`; what it calls done is
//! live and what it did not start did not happen (compared with the
//! sandbox's state); nothing else changed than the plan lists; and a
//! re-run converges (within two runs, the faults still on). Every wait is
//! bounded: a child that outlives its timeout is killed and the test fails.
//!
//! Seeds and their replay: `chaos.rs`.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use invhooks::apply::Outcome;
use invhooks::model::LiveSubscription;
use invhooks::plan::{diff, Change, MerchantPlan};
use invhooks::render::text::change_line;
use invhooks::sandbox::{Faults, Ids, InjectedStats};

use crate::chaos::{
    assert_converged, assert_only_planned, faults_line, random_live, random_manifest_yaml, run_seeds,
};
use crate::support::{Run, Running, World, KEY, RUN_TIMEOUT};

/// Every request to the sandbox waits this long, so a write counted on
/// arrival is still in flight when the signal comes.
const LATENCY: Duration = Duration::from_millis(120);
/// `--wait 2`: a create whose outcome is unknown shows (400 ms visibility
/// delay, 120 ms a read) before it would be sent again, and every create
/// found by its values makes the run read until then. `--wait 1` passes
/// too, but a quarter of the first re-runs then end "another writer is
/// active" (an interrupted run's copy seen late) and need the second: 15
/// of 80 seeds against 4 with `--wait 2` or `3`.
const APPLY: [&str; 7] = [
    "apply",
    "--auto-approve",
    "--force",
    "--parallelism",
    "2",
    "--wait",
    "2",
];

/// What one seed did.
#[derive(Debug, Default)]
struct Figures {
    planned: usize,
    /// The run ended before the signal was due (nothing to interrupt).
    finished_first: bool,
    /// Outcomes in the interrupted report, indexed like [`WORDS`].
    outcomes: [usize; 4],
    sigterm: bool,
    reruns: usize,
    requests: u64,
    injected: InjectedStats,
}

const WORDS: [&str; 4] = Outcome::WORDS;

/// A report line's outcome word and change line, e.g. `  done + …`.
fn word_of(line: &str) -> Option<(&'static str, &str)> {
    let rest = line.strip_prefix("  ")?;
    let word = WORDS.iter().find(|w| rest.starts_with(*w))?;
    Some((word, rest[word.len()..].trim_start()))
}

/// Each planned change's word in the report: every one exactly once.
fn outcomes(seed: u64, plan: &MerchantPlan, run: &Run) -> Vec<&'static str> {
    let reported: Vec<(&str, &str)> = run.stdout.lines().filter_map(word_of).collect();
    let words: Vec<&'static str> = plan
        .changes
        .iter()
        .map(|change| {
            let line = change_line(change, false, &invhooks::secret::Keys::new([KEY]));
            let found: Vec<&str> = reported
                .iter()
                .filter(|(_, l)| *l == line)
                .map(|(w, _)| *w)
                .collect();
            assert_eq!(
                found.len(),
                1,
                "seed {seed}: `{line}` reported {} times:\n{run}",
                found.len()
            );
            found[0]
        })
        .collect();
    assert_eq!(
        reported.len(),
        words.len(),
        "seed {seed}: unplanned lines:\n{run}"
    );
    words
}

/// What the report says against the sandbox: done is live, what was not
/// started (or skipped) did not happen. `all` holds every subscription.
pub(crate) fn assert_report_is_true(
    seed: u64,
    change: &Change,
    word: &str,
    initial: &[LiveSubscription],
    all: &[LiveSubscription],
) {
    let by_id = |id: &str| all.iter().find(|s| s.id == id);
    let new = |s: &&LiveSubscription| !initial.iter().any(|i| i.id == s.id);
    let happened = match change {
        Change::Create { after } => all
            .iter()
            .filter(new)
            .any(|s| s.topic == after.topic && s.name == after.name && s.callback_url == after.callback_url),
        Change::Update { id, after, .. } => {
            by_id(id).is_some_and(|s| s.name == after.name && s.callback_url == after.callback_url)
        }
        Change::Delete { id, .. } => by_id(id).is_none(),
    };
    match word {
        "done" => assert!(happened, "seed {seed}: reported done, not live: {change:?}"),
        "not started" | "skipped" => assert!(!happened, "seed {seed}: {word}, yet it happened: {change:?}"),
        _ => {}
    }
}

fn one_seed(seed: u64) -> Figures {
    let mut rng = StdRng::seed_from_u64(seed);
    let yaml = random_manifest_yaml(&mut rng);
    let manifest = invhooks::manifest::load_str(Path::new("webhooks.yaml"), &yaml, &|_| None).unwrap();
    let faults = Faults {
        seed,
        latency: LATENCY,
        error_rate: 0.05,
        partial_failure_rate: 0.05,
        drop_rate: 0.03,
        visibility_delay: Duration::from_millis(400),
        ..Faults::default()
    };
    let world = World::with_ids(faults, Ids::Random);
    let seeded = random_live(&mut rng);
    let refs: Vec<(&str, &str, &str)> = seeded
        .iter()
        .map(|(t, n, u)| (t.as_str(), n.as_str(), u.as_str()))
        .collect();
    let initial = world.seed(&refs);
    world.write("webhooks.yaml", &yaml);
    let plan = diff(&manifest, &initial);
    let mut figures = Figures {
        planned: plan.changes.len(),
        sigterm: rng.random_bool(0.5),
        ..Figures::default()
    };
    let at_write = rng.random_range(1..=plan.changes.len().max(1)) as u64;
    let extra = Duration::from_millis(rng.random_range(0..LATENCY.as_millis() as u64 / 2));

    let mut running = Running::start(&world, &APPLY);
    let writes = || {
        let stats = world.sandbox.counters().stats();
        stats.post + stats.put + stats.delete
    };
    let due = Instant::now() + RUN_TIMEOUT;
    while writes() < at_write && !running.exited() && Instant::now() < due {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(extra);
    figures.finished_first = running.exited();
    if !figures.finished_first {
        running.signal(if figures.sigterm { "TERM" } else { "INT" });
    }
    let run = running.finish(&format!("seed {seed}"));
    let all = world.sandbox.subscriptions(KEY);
    assert_only_planned(seed, &plan, &initial, &all);
    if !figures.finished_first {
        assert_eq!(run.code, 1, "seed {seed}: {run}");
        assert!(
            run.stderr.contains("interrupted: starting no new calls"),
            "seed {seed}: {run}"
        );
        assert!(run.stdout.contains("\nApply interrupted: "), "seed {seed}: {run}");
        let words = outcomes(seed, &plan, &run);
        // `skipped` is for deletes after a failed create or update only.
        assert!(
            !words.contains(&"skipped") || words.contains(&"failed"),
            "seed {seed}: skipped, yet nothing failed:\n{run}"
        );
        for (change, word) in plan.changes.iter().zip(words) {
            assert_report_is_true(seed, change, word, &initial, &all);
            figures.outcomes[WORDS.iter().position(|w| *w == word).unwrap()] += 1;
        }
    }

    // A re-run converges; the faults are still on, so a second is allowed.
    for rerun in 1..=2 {
        figures.reruns = rerun;
        let again = Running::start(&world, &APPLY).finish(&format!("seed {seed}"));
        if again.code == 0 {
            break;
        }
        assert!(
            rerun < 2,
            "seed {seed}: not converged after two re-runs:\n{again}"
        );
    }
    assert_converged(seed, &manifest, &initial, &world.sandbox.subscriptions(KEY));
    let stats = world.sandbox.counters().stats();
    figures.requests = stats.total;
    figures.injected = stats.injected;
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_applies_report_the_truth_and_converge_on_a_re_run() {
    interrupted_applies(8).await;
}

/// Found by the 500-seed run: the first run's create was done, then the
/// interrupt came before its copy was visible; the re-run's create had an
/// unknown outcome and its resolution found the first run's copy by its
/// values; the re-run converged before its own copy showed, which then
/// stayed beside the other. Now a create found by its values owns every
/// new identical copy and verification reads until `--wait` has passed.
#[test]
fn seed_472_a_create_resolved_by_its_values_leaves_one_copy() {
    one_seed(472);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "500 seeds, a few minutes: cargo test --test it chaos -- --ignored"]
async fn interrupted_applies_report_the_truth_and_converge_on_a_re_run_500_seeds() {
    interrupted_applies(500).await;
}

async fn interrupted_applies(default_seeds: u64) {
    let started = Instant::now();
    let test = "chaos_interrupts::interrupted_applies_report_the_truth_and_converge_on_a_re_run";
    let (seeds, figures) = run_seeds(test, default_seeds, |seed| async move {
        tokio::task::spawn_blocking(move || one_seed(seed)).await.unwrap()
    })
    .await;
    let interrupted: Vec<&Figures> = figures.iter().filter(|f| !f.finished_first).collect();
    let sum = |i: usize| interrupted.iter().map(|f| f.outcomes[i]).sum::<usize>();
    let (done, failed, skipped, not_started) = (sum(0), sum(1), sum(2), sum(3));
    let terms = interrupted.iter().filter(|f| f.sigterm).count();
    let planned: usize = figures.iter().map(|f| f.planned).sum();
    let requests: u64 = figures.iter().map(|f| f.requests).sum();
    let faults = faults_line(figures.iter().map(|f| &f.injected));
    let second = figures.iter().filter(|f| f.reruns > 1).count();
    println!(
        "chaos_interrupts: {seeds} seeds in {:.1} s; {} interrupted ({terms} by SIGTERM, the rest SIGINT), {} finished \
         before the signal was due; {planned} planned changes, in the interrupted reports {done} done, {failed} failed, \
         {skipped} skipped, {not_started} not started; {requests} requests, {faults}; \
         every re-run converged, {second} seeds needed a second",
        started.elapsed().as_secs_f64(),
        interrupted.len(),
        figures.len() - interrupted.len(),
    );
    // Seeds that were never interrupted, or interrupts that stopped
    // nothing, would prove nothing (one replayed seed need not show all).
    if seeds > 1 {
        assert!(
            interrupted.len() * 2 > figures.len(),
            "most seeds are interrupted"
        );
        assert!(not_started > 0, "no interrupt stopped a change from starting");
        assert!(done > 0, "no interrupted run did anything");
    }
}
