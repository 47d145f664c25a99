//! The chaos test: apply against the in-process sandbox with every fault
//! on, over many seeded random desired/live sets. In every run, after at
//! most one re-run: live equals desired, no duplicate exists, nothing
//! matched by `ignore` was touched, and no planned delete ran after a
//! failed create or update. And a seed replays: the same seed gives the
//! same requests the same faults however they interleave.
//!
//! Every chaos test runs a few seeds by default; `cargo test --test it
//! chaos -- --ignored --nocapture` runs 500 each and prints the figures,
//! `CHAOS_SEEDS=N` sets how many, and `CHAOS_SEED=N` runs seed N alone:
//! the command a failing seed prints to replay it.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use invhooks::api::{ApiKey, BaseUrl, Client, ClientOptions, Http};
use invhooks::apply::{apply, ApplyOptions, MerchantReport, Outcome, Remote, Stop};
use invhooks::model::{LiveSubscription, MerchantManifest};
use invhooks::plan::{diff, Action, Change, MerchantPlan};
use invhooks::sandbox::{Faults, Ids, Sandbox, SandboxConfig};

pub(crate) const KEY: &str = "chaos-key";
pub(crate) const TOPICS: [&str; 4] = [
    "customer.updated",
    "customer.ordered",
    "customer.cancelled",
    "customer.payment_failed",
];
pub(crate) const NAMES: [&str; 3] = ["crm", "erp", "warehouse"];
const URLS: [&str; 3] = [
    "https://a.example/",
    "https://b.example/hook",
    "https://c.example/?sig=1",
];

/// What one seed did.
#[derive(Debug, Default)]
struct SeedOutcome {
    runs: usize,
    changes: usize,
    cleaned_up: usize,
    requests: u64,
    injected: invhooks::sandbox::InjectedStats,
}

/// A random manifest's YAML: `prune` mostly on, `zap-*` ignored, up to
/// 10 subscriptions over [`TOPICS`] × [`NAMES`].
pub(crate) fn random_manifest_yaml(rng: &mut StdRng) -> String {
    let mut yaml = format!(
        "version: 1\nprune: {}\nignore:\n  - name: \"zap-*\"\nsubscriptions:\n",
        rng.random_bool(0.8)
    );
    let mut keys = BTreeSet::new();
    for _ in 0..rng.random_range(0..10) {
        keys.insert((
            rng.random_range(0..TOPICS.len()),
            rng.random_range(0..NAMES.len()),
        ));
    }
    for (t, n) in keys {
        let url = URLS[rng.random_range(0..URLS.len())];
        yaml.push_str(&format!(
            "  - {{name: {}, topic: {}, callbackUrl: \"{url}\"}}\n",
            NAMES[n], TOPICS[t]
        ));
    }
    yaml
}

pub(crate) fn random_manifest(rng: &mut StdRng) -> MerchantManifest {
    let yaml = random_manifest_yaml(rng);
    invhooks::manifest::load_str(Path::new("chaos.yaml"), &yaml, &|_| None).unwrap()
}

pub(crate) fn random_live(rng: &mut StdRng) -> Vec<(String, String, String)> {
    (0..rng.random_range(0..12))
        .map(|i| {
            let name = if rng.random_bool(0.2) {
                format!("zap-{i}")
            } else {
                NAMES[rng.random_range(0..NAMES.len())].to_owned()
            };
            (
                TOPICS[rng.random_range(0..TOPICS.len())].to_owned(),
                name,
                URLS[rng.random_range(0..URLS.len())].to_owned(),
            )
        })
        .collect()
}

pub(crate) fn no_delete_after_a_failed_write(report: &MerchantReport) -> bool {
    let failed = report
        .changes
        .iter()
        .any(|c| c.change.action() != Action::Delete && c.outcome != Outcome::Done);
    !failed
        || report
            .changes
            .iter()
            .all(|c| c.change.action() != Action::Delete || c.outcome != Outcome::Done)
}

/// A sandbox injecting `faults`, seeded with [`random_live`]; what it
/// holds at the start.
pub(crate) async fn seeded_sandbox(faults: Faults, rng: &mut StdRng) -> (Sandbox, Vec<LiveSubscription>) {
    let config = SandboxConfig {
        api_keys: vec![KEY.into()],
        faults,
        // Ids in no order: a client that relies on id order fails here.
        ids: Ids::Random,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
        .await
        .unwrap();
    let seeded = random_live(rng);
    let refs: Vec<(&str, &str, &str)> = seeded
        .iter()
        .map(|(t, n, u)| (t.as_str(), n.as_str(), u.as_str()))
        .collect();
    let initial = sandbox.seed(KEY, &refs);
    (sandbox, initial)
}

/// Plans `manifest` against `live` and applies the plan, with no stop and
/// no progress lines: how many changes were planned, and the report.
pub(crate) async fn plan_and_apply<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    live: &[LiveSubscription],
    options: ApplyOptions,
) -> (usize, MerchantReport) {
    let plan = diff(manifest, live);
    let report = apply(remote, manifest, &plan, live, options, &Stop::default(), &|_| {}).await;
    (plan.changes.len(), report)
}

/// The list a run plans from. Every attempt of a read can fail (five
/// errors or drops in a row: rare, but 500 seeds met it), and a run
/// stops there, before any write: the read is then made again.
pub(crate) async fn plan_list(seed: u64, client: &Client) -> Vec<LiveSubscription> {
    match client.list().await {
        Ok(live) => live,
        Err(_) => (client.list().await).unwrap_or_else(|e| panic!("seed {seed}: read twice, failed: {e}")),
    }
}

/// A client of `sandbox`'s merchant with a 2 s timeout.
pub(crate) fn client(sandbox: &Sandbox) -> Client {
    let base = BaseUrl::parse(&sandbox.base_url(), None).unwrap().url;
    let options = ClientOptions {
        timeout: Duration::from_secs(2),
        ..ClientOptions::default()
    };
    Http::new(&base, options)
        .unwrap()
        .client(&ApiKey::new(KEY.into()))
        .unwrap()
}

/// The faults of [`apply_converges_under_every_fault`].
fn every_fault(seed: u64) -> Faults {
    Faults {
        seed,
        error_rate: 0.1,
        partial_failure_rate: 0.1,
        drop_rate: 0.05,
        visibility_delay: Duration::from_millis(300),
        rate_limit: Some(100.0),
        ..Faults::default()
    }
}

/// The apply options of every in-process chaos run.
pub(crate) const OPTIONS: ApplyOptions = ApplyOptions {
    parallelism: 4,
    // Above the 300 ms visibility delay (ten reads, 100 ms apart): an
    // unknown-outcome create is looked for this long before it is sent
    // again, and every create found by its values makes verification read
    // until then.
    wait: Duration::from_secs(1),
    poll: Duration::from_millis(100),
};

async fn one_seed(seed: u64) -> SeedOutcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let manifest = random_manifest(&mut rng);
    let (sandbox, initial) = seeded_sandbox(every_fault(seed), &mut rng).await;
    let client = client(&sandbox);

    let mut outcome = SeedOutcome::default();
    for run in 1..=2 {
        outcome.runs = run;
        let live = plan_list(seed, &client).await;
        let (planned, report) = plan_and_apply(&client, &manifest, &live, OPTIONS).await;
        outcome.changes += planned;
        outcome.cleaned_up += report.cleaned_up.len();
        assert!(
            no_delete_after_a_failed_write(&report),
            "seed {seed}: a delete ran after a failed write: {report:#?}"
        );
        if report.succeeded() {
            break;
        }
        assert!(run < 2, "seed {seed}: not converged after a re-run: {report:#?}");
    }

    // The in-process view shows everything, visible to GET or not yet.
    assert_converged(seed, &manifest, &initial, &sandbox.subscriptions(KEY));

    let stats = sandbox.counters().stats();
    outcome.requests = stats.total;
    outcome.injected = stats.injected;
    let _ = sandbox.shutdown().await;
    outcome
}

/// One apply of seed `seed`'s manifest with `parallelism` calls in flight,
/// under the faults that do not depend on time (no rate limit, visibility
/// delay or latency) and without polling (`wait` 0: what a run does then
/// depends only on the answers it gets): the sandbox's fault log, and the
/// end state as sorted (topic, name, callback URL).
async fn replayed(seed: u64, parallelism: usize) -> (Vec<String>, Vec<(String, String, String)>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let manifest = random_manifest(&mut rng);
    let faults = Faults {
        visibility_delay: Duration::ZERO,
        rate_limit: None,
        ..every_fault(seed)
    };
    let (sandbox, _) = seeded_sandbox(faults, &mut rng).await;
    let client = client(&sandbox);
    let options = ApplyOptions {
        parallelism,
        wait: Duration::ZERO,
        ..OPTIONS
    };
    let live = plan_list(seed, &client).await;
    plan_and_apply(&client, &manifest, &live, options).await;
    let mut state: Vec<_> = sandbox
        .subscriptions(KEY)
        .into_iter()
        .map(|s| (s.topic, s.name, s.callback_url))
        .collect();
    state.sort();
    let log = sandbox.counters().fault_log();
    let _ = sandbox.shutdown().await;
    (log, state)
}

/// The end state after a run that succeeded, from `all` (every
/// subscription, visible or not yet) and `initial` (before the runs):
/// each declared key once with its URL, undeclared ones gone when pruning
/// and untouched otherwise, ignored ones untouched.
pub(crate) fn assert_converged(
    seed: u64,
    manifest: &MerchantManifest,
    initial: &[LiveSubscription],
    all: &[LiveSubscription],
) {
    let in_scope: Vec<&LiveSubscription> = all.iter().filter(|s| !manifest.is_ignored(s)).collect();
    for want in &manifest.subscriptions {
        let copies: Vec<_> = in_scope
            .iter()
            .filter(|s| (&s.topic, &s.name) == (&want.topic, &want.name))
            .collect();
        assert_eq!(
            copies.len(),
            1,
            "seed {seed}: {} copies of {:?}",
            copies.len(),
            (&want.topic, &want.name)
        );
        assert_eq!(copies[0].callback_url, want.callback_url, "seed {seed}");
    }
    // Undeclared subscriptions are all gone when pruning; without prune
    // they are exactly as they were (duplicates among them included).
    let declared = |s: &LiveSubscription| {
        manifest
            .subscriptions
            .iter()
            .any(|d| (&d.topic, &d.name) == (&s.topic, &s.name))
    };
    let undeclared: BTreeSet<LiveSubscription> = in_scope
        .iter()
        .filter(|s| !declared(s))
        .map(|s| (*s).clone())
        .collect();
    if manifest.prune {
        assert!(
            undeclared.is_empty(),
            "seed {seed}: undeclared left: {undeclared:#?}"
        );
    } else {
        let before: BTreeSet<LiveSubscription> = initial
            .iter()
            .filter(|s| !manifest.is_ignored(s) && !declared(s))
            .cloned()
            .collect();
        assert_eq!(
            undeclared, before,
            "seed {seed}: an unmanaged subscription was touched"
        );
    }
    let ignored = |subs: &[LiveSubscription]| -> BTreeSet<LiveSubscription> {
        subs.iter().filter(|s| manifest.is_ignored(s)).cloned().collect()
    };
    assert_eq!(
        ignored(initial),
        ignored(all),
        "seed {seed}: an ignored subscription was touched"
    );
}

/// Applies `manifest` afresh until a run succeeds: two runs at most
/// (faults may fail the first). How many ran. With `settle`, each run
/// starts once every subscription of that sandbox is visible (bounded).
pub(crate) async fn converge(
    seed: u64,
    client: &Client,
    manifest: &MerchantManifest,
    options: ApplyOptions,
    settle: Option<&Sandbox>,
) -> usize {
    let mut run = 0;
    loop {
        run += 1;
        if let Some(sandbox) = settle {
            let deadline = Instant::now() + Duration::from_secs(30);
            while sandbox.visible_subscriptions(KEY).len() < sandbox.subscriptions(KEY).len() {
                assert!(Instant::now() < deadline, "seed {seed}: never all visible");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let live = plan_list(seed, client).await;
        let (_, report) = plan_and_apply(client, manifest, &live, options).await;
        if report.succeeded() {
            return run;
        }
        assert!(run < 2, "seed {seed}: not converged after a re-run: {report:#?}");
    }
}

/// After any run, finished or not: only what `plan` lists happened. Each
/// subscription of `initial` is still there as it was, unless the plan
/// deletes it (it may be gone) or updates it (it may hold the new values);
/// every other one in `all` is a planned create, one copy at most.
pub(crate) fn assert_only_planned(
    seed: u64,
    plan: &MerchantPlan,
    initial: &[LiveSubscription],
    all: &[LiveSubscription],
) {
    for before in initial {
        let planned = plan.changes.iter().find(|c| c.id() == Some(before.id.as_str()));
        match (planned, all.iter().find(|s| s.id == before.id)) {
            (Some(Change::Delete { .. }), _) => {}
            (Some(Change::Update { after, .. }), Some(now))
                if now.name == after.name && now.callback_url == after.callback_url => {}
            (_, Some(now)) => assert_eq!(now, before, "seed {seed}: changed without a plan"),
            (_, None) => panic!("seed {seed}: {} was deleted without a plan", before.id),
        }
    }
    for new in all.iter().filter(|s| !initial.iter().any(|i| i.id == s.id)) {
        let planned = |c: &&Change| {
            matches!(c, Change::Create { after } if after.topic == new.topic
                && after.name == new.name && after.callback_url == new.callback_url)
        };
        assert!(
            plan.changes.iter().any(|c| planned(&c)),
            "seed {seed}: {new:?} was created without a plan"
        );
        let copies = all
            .iter()
            .filter(|s| {
                !initial.iter().any(|i| i.id == s.id) && (&s.topic, &s.name) == (&new.topic, &new.name)
            })
            .count();
        assert_eq!(copies, 1, "seed {seed}: {copies} copies of {new:?} created");
    }
}

/// The faults other than lies injected in `all`, by kind, for the figures.
pub(crate) fn faults_line<'a>(all: impl Iterator<Item = &'a invhooks::sandbox::InjectedStats>) -> String {
    let [mut errors, mut partial, mut drops, mut limited] = [0; 4];
    for i in all {
        errors += i.errors;
        partial += i.partial_failures;
        drops += i.drops_before + i.drops_after;
        limited += i.rate_limited;
    }
    format!(
        "{} injected faults ({errors} 500s before and {partial} after the write, {drops} drops, {limited} 429s)",
        errors + partial + drops + limited
    )
}

/// The seeds a chaos test runs: `CHAOS_SEED=N` alone (to replay one),
/// else 0 to `CHAOS_SEEDS` (by default `default`).
fn seeds(default: u64) -> Vec<u64> {
    let var = |name| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    match var("CHAOS_SEED") {
        Some(seed) => vec![seed],
        None => (0..var("CHAOS_SEEDS").unwrap_or(default)).collect(),
    }
}

/// Runs `one_seed` for [`seeds`], 8 at a time; the number of seeds and
/// their results. Seeds that fail (each one's panic says why) fail the
/// test once every seed has run, with the command that replays the first:
/// `test` is the test's path, e.g. `chaos::apply_converges_under_every_fault`.
pub(crate) async fn run_seeds<T, F: std::future::Future<Output = T>>(
    test: &str,
    default: u64,
    mut one_seed: impl FnMut(u64) -> F,
) -> (u64, Vec<T>) {
    let seeds = seeds(default);
    let count = seeds.len() as u64;
    let results: Vec<(u64, std::thread::Result<T>)> = stream::iter(seeds)
        .map(|seed| {
            AssertUnwindSafe(one_seed(seed))
                .catch_unwind()
                .map(move |r| (seed, r))
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut failed: Vec<u64> = results
        .iter()
        .filter(|(_, result)| result.is_err())
        .map(|(seed, _)| *seed)
        .collect();
    failed.sort_unstable();
    if let Some(first) = failed.first() {
        panic!(
            "{} of {count} seeds failed: {failed:?}; replay one with\n  \
             CHAOS_SEED={first} cargo test --test it {test} -- --exact --nocapture",
            failed.len()
        );
    }
    (count, results.into_iter().filter_map(|(_, r)| r.ok()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_under_every_fault() {
    converges_under_every_fault(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "500 seeds, about a minute: cargo test --test it chaos -- --ignored"]
async fn apply_converges_under_every_fault_500_seeds() {
    converges_under_every_fault(500).await;
}

async fn converges_under_every_fault(default_seeds: u64) {
    let started = Instant::now();
    let test = "chaos::apply_converges_under_every_fault";
    let (seeds, outcomes) = run_seeds(test, default_seeds, one_seed).await;
    let reruns = outcomes.iter().filter(|o| o.runs > 1).count();
    // A duplicate the run created means a create was sent twice: unknown
    // outcomes are resolved by reading the list first, so this stays 0.
    let cleaned_up: usize = outcomes.iter().map(|o| o.cleaned_up).sum();
    let changes: usize = outcomes.iter().map(|o| o.changes).sum();
    let requests: u64 = outcomes.iter().map(|o| o.requests).sum();
    let sum = |kind: fn(&invhooks::sandbox::InjectedStats) -> u64| {
        outcomes.iter().map(|o| kind(&o.injected)).sum::<u64>()
    };
    let errors = sum(|i| i.errors);
    let partial = sum(|i| i.partial_failures);
    let drops = sum(|i| i.drops_before + i.drops_after);
    let faults = faults_line(outcomes.iter().map(|o| &o.injected));
    println!(
        "chaos: {seeds} seeds converged in {:.1} s; {changes} planned changes, {requests} requests, \
         {faults}, {reruns} seeds needed the one re-run, {cleaned_up} duplicates cleaned up",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(cleaned_up, 0, "a create was sent twice for the same subscription");
    // A chaos run that injected nothing would prove nothing.
    if seeds > 1 {
        assert!(errors > 0, "no 500 before a write was injected");
        assert!(partial > 0, "no 500 after a write was injected");
        assert!(drops > 0, "no connection was dropped");
    }
}

/// A seed replays: run twice, with 4 calls in flight and then one at a
/// time, it gets the same faults for the same requests and ends the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_replays_the_same_faults_however_requests_interleave() {
    let test = "chaos::a_seed_replays_the_same_faults_however_requests_interleave";
    let (seeds, logs) = run_seeds(test, 8, |seed| async move {
        let parallel = replayed(seed, 4).await;
        let one_by_one = replayed(seed, 1).await;
        assert_eq!(parallel, one_by_one, "seed {seed}: (fault log, end state)");
        parallel.0
    })
    .await;
    // Replaying faults proves nothing without them (one seed alone need
    // not draw every kind).
    let log = logs.concat();
    for kind in ["error", "partial failure", "drop before", "drop after"] {
        assert!(
            seeds == 1 || log.iter().any(|line| line.ends_with(kind)),
            "no `{kind}` in {log:#?}"
        );
    }
}
