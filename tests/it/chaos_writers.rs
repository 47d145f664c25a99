//! Chaos with another writer: while `apply` runs against the faulty
//! sandbox, a second client of the same merchant creates subscriptions
//! (some copying declared keys with its own URL) and renames its own. For
//! every seed, after the first run: nothing the writer made is gone (the
//! run deletes only what it planned or created), and every key with more
//! than one copy has one of the writer's among them. Once the writer has
//! stopped, a fresh apply converges within two runs.
//!
//! Seeds and their replay: `chaos.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use invhooks::api::Client;
use invhooks::apply::{apply, Remote as _, Stop};
use invhooks::plan::{diff, Fields};
use invhooks::sandbox::{Faults, Sandbox};
use invhooks::secret::Masking;

use crate::chaos::{
    client, converge, plan_list, random_manifest, run_seeds, seeded_sandbox, KEY, NAMES, OPTIONS, TOPICS,
};

/// The writer's URLs: how its subscriptions are told from everyone else's.
const THEIRS: &str = "https://other.example/";

#[derive(Debug, Default)]
struct Figures {
    writer_writes: usize,
    runs: usize,
}

/// The other writer: a few creates and renames of its own, spread over
/// the first run. Errors are ignored (the sandbox injects faults for it
/// too). Returns how many calls it made.
async fn other_writer(client: &Client, seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut calls = 0;
    for i in 0..rng.random_range(1..6) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..60))).await;
        let topic = TOPICS[rng.random_range(0..TOPICS.len())];
        // Half the time a copy of a name the manifest may declare.
        let name = if rng.random_bool(0.5) {
            NAMES[rng.random_range(0..NAMES.len())].to_owned()
        } else {
            format!("other-{i}")
        };
        let url = format!("{THEIRS}{i}");
        let mut new = Fields {
            topic: topic.to_owned(),
            name,
            callback_url: url,
            masking: Masking::Full,
        };
        let created = client.create(&new).await;
        calls += 1;
        if let (Ok(Some(id)), true) = (created, rng.random_bool(0.5)) {
            new.name = format!("other-renamed-{i}");
            let _ = client.update(&id, &new).await;
            calls += 1;
        }
    }
    calls
}

fn theirs(sandbox: &Sandbox) -> BTreeMap<String, String> {
    sandbox
        .subscriptions(KEY)
        .into_iter()
        .filter(|s| s.callback_url.starts_with(THEIRS))
        .map(|s| (s.id, s.name))
        .collect()
}

async fn one_seed(seed: u64) -> Figures {
    let mut rng = StdRng::seed_from_u64(seed);
    let manifest = random_manifest(&mut rng);
    let faults = Faults {
        seed,
        error_rate: 0.05,
        partial_failure_rate: 0.05,
        drop_rate: 0.02,
        visibility_delay: Duration::from_millis(200),
        latency: Duration::from_millis(5),
        ..Faults::default()
    };
    let (sandbox, _) = seeded_sandbox(faults, &mut rng).await;
    let (ours, writer) = (client(&sandbox), client(&sandbox));
    let options = OPTIONS;
    let mut figures = Figures::default();

    // Run 1, with the other writer at work.
    let live = plan_list(seed, &ours).await;
    let plan = diff(&manifest, &live);
    let stop = Stop::default();
    let (_, calls) = tokio::join!(
        apply(&ours, &manifest, &plan, &live, options, &stop, &|_| {}),
        other_writer(&writer, seed)
    );
    figures.writer_writes = calls;
    // Everything the writer made is still there: visible or not yet, and
    // by id (its renames included).
    let made = theirs(&sandbox);
    let all = sandbox.subscriptions(KEY);
    for id in made.keys() {
        assert!(
            all.iter().any(|s| &s.id == id),
            "seed {seed}: the writer's {id} was deleted"
        );
    }
    // A key with several copies has one of the writer's among them.
    let mut copies: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for s in all.iter().filter(|s| !manifest.is_ignored(s)) {
        copies
            .entry((s.topic.clone(), s.name.clone()))
            .or_default()
            .push(&s.callback_url);
    }
    let declared = |t: &str, n: &str| manifest.subscriptions.iter().any(|d| d.topic == t && d.name == n);
    for ((t, n), urls) in &copies {
        if urls.len() > 1 && declared(t, n) {
            assert!(
                urls.iter().any(|u| u.starts_with(THEIRS)),
                "seed {seed}: {} copies of {t} {n} and none is the writer's: {urls:?}",
                urls.len()
            );
        }
    }

    // The writer has stopped: once what it made is visible, a fresh apply
    // converges (a re-run allowed).
    figures.runs = converge(seed, &ours, &manifest, options, Some(&sandbox)).await;
    let _ = sandbox.shutdown().await;
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_loses_nothing_and_apply_converges_after() {
    writer_loses_nothing(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "500 seeds, about a minute: cargo test --test it chaos -- --ignored"]
async fn another_writer_loses_nothing_and_apply_converges_after_500_seeds() {
    writer_loses_nothing(500).await;
}

async fn writer_loses_nothing(default_seeds: u64) {
    let started = Instant::now();
    let test = "chaos_writers::another_writer_loses_nothing_and_apply_converges_after";
    let (seeds, figures): (u64, Vec<Figures>) = run_seeds(test, default_seeds, one_seed).await;
    let writes: usize = figures.iter().map(|f| f.writer_writes).sum();
    let reruns = figures.iter().filter(|f| f.runs > 1).count();
    println!(
        "chaos_writers: {seeds} seeds in {:.1} s; the other writer made {writes} calls during the first runs, \
         nothing of it was deleted; {reruns} seeds needed the re-run after it stopped",
        started.elapsed().as_secs_f64()
    );
    assert!(writes > 0 || seeds == 1, "the other writer never wrote");
}
