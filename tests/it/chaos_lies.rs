//! Chaos with lying lists: `apply` against the in-process sandbox with the
//! other faults on and `lying_list_rate` (`--lying-list-rate`) answering
//! some GETs with an id listed twice or only a first page carrying a
//! pagination hint — the plan's list, resolution's and verification's
//! alike. For every seed: every lie told was refused by the client (the
//! sandbox's `repeated_ids` + `cut_pages` equal the list errors apply
//! saw), the lied-to run changed only what its plan lists, one copy per
//! create at most (it may fail, never write wrongly), no delete ran after
//! a failed write; then, the lies stopped (`Sandbox::set_faults`), a fresh
//! apply converges within two runs.
//!
//! Seeds and their replay: `chaos.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use invhooks::api::envelope::BodyError;
use invhooks::api::{ApiError, Client, Failure};
use invhooks::apply::{apply, Remote, Stop};
use invhooks::model::LiveSubscription;
use invhooks::plan::{diff, Fields};
use invhooks::sandbox::{Faults, InjectedStats};

use crate::chaos::{
    assert_converged, assert_only_planned, client, converge, faults_line, no_delete_after_a_failed_write,
    random_manifest, run_seeds, seeded_sandbox, KEY, OPTIONS,
};

/// The client, counting the lists it refused as untrustworthy.
struct Watched<'a> {
    client: &'a Client,
    refused: AtomicU64,
}

impl Remote for Watched<'_> {
    type Error = ApiError;

    async fn list(&self) -> Result<Vec<LiveSubscription>, ApiError> {
        let listed = self.client.list().await;
        if let Err(ApiError {
            failure: Failure::Body(BodyError::Incomplete(_)),
            ..
        }) = &listed
        {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        listed
    }
    async fn create(&self, new: &Fields) -> Result<Option<String>, ApiError> {
        Remote::create(self.client, new).await
    }
    async fn update(&self, id: &str, new: &Fields) -> Result<(), ApiError> {
        Remote::update(self.client, id, new).await
    }
    async fn delete(&self, id: &str, topic: &str) -> Result<(), ApiError> {
        Remote::delete(self.client, id, topic).await
    }
}

/// What one seed did.
#[derive(Debug, Default)]
struct Figures {
    /// The plan's own list was a lie: nothing was written.
    refused_at_start: bool,
    /// Lies refused during the calls and verification.
    refused_later: u64,
    /// The lied-to run did not succeed.
    failed: bool,
    /// Runs after the lies stopped.
    runs: usize,
    requests: u64,
    injected: InjectedStats,
}

fn faults(seed: u64) -> Faults {
    Faults {
        seed,
        error_rate: 0.05,
        partial_failure_rate: 0.1,
        drop_rate: 0.05,
        visibility_delay: Duration::from_millis(300),
        lying_list_rate: 0.3,
        ..Faults::default()
    }
}

async fn one_seed(seed: u64) -> Figures {
    let mut rng = StdRng::seed_from_u64(seed);
    let manifest = random_manifest(&mut rng);
    let (sandbox, initial) = seeded_sandbox(faults(seed), &mut rng).await;
    let client = client(&sandbox);
    let watched = Watched {
        client: &client,
        refused: AtomicU64::new(0),
    };
    let mut figures = Figures::default();

    // The lied-to run.
    match watched.list().await {
        Err(err) => {
            assert_eq!(watched.refused.load(Ordering::Relaxed), 1, "seed {seed}: {err}");
            let mut before = initial.clone();
            before.sort();
            let mut now = sandbox.subscriptions(KEY);
            now.sort();
            assert_eq!(now, before, "seed {seed}");
            figures.refused_at_start = true;
            figures.failed = true;
        }
        Ok(live) => {
            let plan = diff(&manifest, &live);
            let report = apply(
                &watched,
                &manifest,
                &plan,
                &live,
                OPTIONS,
                &Stop::default(),
                &|_| {},
            )
            .await;
            figures.refused_later = watched.refused.load(Ordering::Relaxed);
            figures.failed = !report.succeeded();
            assert!(
                no_delete_after_a_failed_write(&report),
                "seed {seed}: a delete ran after a failed write: {report:#?}"
            );
            assert!(
                report.cleaned_up.is_empty(),
                "seed {seed}: a create was sent twice: {report:#?}"
            );
            assert_only_planned(seed, &plan, &initial, &sandbox.subscriptions(KEY));
        }
    }
    let injected = sandbox.counters().stats().injected;
    assert_eq!(
        injected.repeated_ids + injected.cut_pages,
        watched.refused.load(Ordering::Relaxed),
        "seed {seed}: every lie told is refused, and only lies are"
    );

    // The lies stop; the other faults go on.
    sandbox
        .set_faults(Faults {
            lying_list_rate: 0.0,
            ..faults(seed)
        })
        .unwrap();
    figures.runs = converge(seed, &client, &manifest, OPTIONS, None).await;
    assert_converged(seed, &manifest, &initial, &sandbox.subscriptions(KEY));
    let stats = sandbox.counters().stats();
    assert_eq!(
        stats.injected.repeated_ids + stats.injected.cut_pages,
        injected.repeated_ids + injected.cut_pages
    );
    figures.requests = stats.total;
    figures.injected = stats.injected;
    let _ = sandbox.shutdown().await;
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lied_to_runs_write_nothing_wrong_and_converge_after() {
    lied_to_runs(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "500 seeds, about a minute: cargo test --test it chaos -- --ignored"]
async fn lied_to_runs_write_nothing_wrong_and_converge_after_500_seeds() {
    lied_to_runs(500).await;
}

async fn lied_to_runs(default_seeds: u64) {
    let started = Instant::now();
    let test = "chaos_lies::lied_to_runs_write_nothing_wrong_and_converge_after";
    let (seeds, figures) = run_seeds(test, default_seeds, one_seed).await;
    let count = |f: fn(&Figures) -> bool| figures.iter().filter(|x| f(x)).count();
    let sum = |f: fn(&Figures) -> u64| figures.iter().map(f).sum::<u64>();
    let repeated = sum(|f| f.injected.repeated_ids);
    let cut = sum(|f| f.injected.cut_pages);
    let later = sum(|f| f.refused_later);
    let at_start = count(|f| f.refused_at_start);
    let failed = count(|f| f.failed);
    let reruns = count(|f| f.runs > 1);
    let requests = sum(|f| f.requests);
    let other = faults_line(figures.iter().map(|f| &f.injected));
    println!(
        "chaos_lies: {seeds} seeds in {:.1} s; {requests} requests, {} lying lists ({repeated} with a repeated id, \
         {cut} first pages with a hint), all refused: {at_start} at the plan's list (nothing written), {later} during \
         the calls or verification; {other}; {failed} lied-to runs failed, none wrote anything unplanned; \
         {reruns} seeds needed the re-run after the lies stopped",
        started.elapsed().as_secs_f64(),
        repeated + cut,
    );
    // A run that told no lie of a kind, or none after the plan's list,
    // would prove nothing about it (one replayed seed need not tell all).
    if seeds > 1 {
        assert!(repeated > 0, "no list with a repeated id was told");
        assert!(cut > 0, "no cut page was told");
        assert!(later > 0, "no lie reached a resolution or a verification");
    }
}
