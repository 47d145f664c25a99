//! Fleets (README "Agencies and fleets"): `--merchant` and `--shard` pick
//! the merchants before any request, shards cover every merchant exactly
//! once, and reads across merchants stay bounded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use invhooks::sandbox::SandboxConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// A world whose sandbox knows some merchants, and their keys.
struct Fleet {
    world: World,
    env: Vec<(String, String)>,
}

impl Fleet {
    /// `n` merchants, each in `m/store-I.yaml` with key variable `KEY_I`
    /// holding `key-I-5ecr3t`.
    fn new(n: usize) -> Fleet {
        let (world, env) = fleet(n);
        Fleet { world, env }
    }

    /// Runs with the fleet's keys in the environment.
    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.world.run_env(args, &env)
    }
}

/// The world and environment of [`Fleet::new`].
fn fleet(n: usize) -> (World, Vec<(String, String)>) {
    let keys: Vec<String> = (0..n).map(|i| format!("key-{i}-5ecr3t")).collect();
    let config = SandboxConfig {
        api_keys: keys.clone(),
        ..SandboxConfig::default()
    };
    let world = World::serving(config);
    let mut env = Vec::new();
    for (i, key) in keys.into_iter().enumerate() {
        world.write(
            &format!("m/store-{i}.yaml"),
            &manifest(&format!(
                "merchant: store-{i}\napiKeyEnv: KEY_{i}\nsubscriptions:\n  - {{name: a, topic: customer.updated, callbackUrl: \"https://{i}.example/\"}}\n"
            )),
        );
        env.push((format!("KEY_{i}"), key));
    }
    (world, env)
}

/// The merchants a `plan --format json` run planned.
fn planned(run: &Run) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    doc["merchants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["merchant"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn merchant_sends_only_that_stores_requests() {
    let fleet = Fleet::new(3);
    let world = &fleet.world;
    let run = fleet.run(&["plan", "-f", "m", "--merchant", "store-1", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(planned(&run), ["store-1"]);
    assert_eq!(
        world.sandbox.counters().stats().get,
        1,
        "one GET, for store-1 only"
    );

    let run = fleet.run(&["apply", "-f", "m", "--merchant", "store-1", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(live_of(&world.sandbox, "key-1-5ecr3t").len(), 1);
    for other in ["key-0-5ecr3t", "key-2-5ecr3t"] {
        assert!(live_of(&world.sandbox, other).is_empty(), "{run}");
    }
    let run = fleet.run(&["drift", "-f", "m", "--merchant", "store-1"]);
    assert_eq!(run.code, 0, "store-1 is in sync now\n{run}");
    let run = fleet.run(&["drift", "-f", "m", "--merchant", "store-[02]"]);
    assert_eq!(run.code, 2, "the others are not\n{run}");
}

#[test]
fn merchant_globs_repeat_and_each_must_match() {
    let fleet = Fleet::new(3);
    let world = &fleet.world;
    let run = fleet.run(&[
        "plan",
        "-f",
        "m",
        "--merchant",
        "store-0",
        "--merchant",
        "*-2",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(planned(&run), ["store-0", "store-2"]);

    let before = world.sandbox.counters().stats().total;
    let run = fleet.run(&["plan", "-f", "m", "--merchant", "store-0", "--merchant", "nope-*"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("no merchant matches `--merchant nope-*`"),
        "{run}"
    );
    assert!(run.stderr.contains("`store-0`, `store-1`, `store-2`"), "{run}");
    assert_eq!(world.sandbox.counters().stats().total, before, "nothing was sent");
}

#[test]
fn globs_and_shard_combine_and_a_bad_glob_is_refused() {
    let fleet = Fleet::new(7);
    for shard in ["1/2", "2/2"] {
        let plan = |extra: &[&str]| {
            let args = [&["plan", "-f", "m", "--shard", shard, "--format", "json"], extra].concat();
            let run = fleet.run(&args);
            assert_eq!(run.code, 0, "{run}");
            planned(&run)
        };
        let mut expected = plan(&[]);
        expected.retain(|m| ["store-0", "store-1", "store-2", "store-3"].contains(&m.as_str()));
        assert_eq!(plan(&["--merchant", "store-[0-3]"]), expected, "shard {shard}");
    }
    let run = fleet.run(&["plan", "-f", "m", "--merchant", "["]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("`--merchant [` is not a valid glob"), "{run}");
}

#[test]
fn shards_cover_every_merchant_exactly_once() {
    let fleet = Fleet::new(7);
    let world = &fleet.world;
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let run = fleet.run(&["plan", "-f", "m", "--shard", shard, "--format", "json"]);
        assert_eq!(run.code, 0, "{run}");
        let merchants = planned(&run);
        assert!(
            !merchants.is_empty() && merchants.len() < 7,
            "shard {shard}: {merchants:?}"
        );
        seen.extend(merchants);
    }
    let all: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 7, "no merchant twice: {seen:?}");
    assert_eq!(all.len(), 7, "every merchant once: {seen:?}");
    assert_eq!(
        world.sandbox.counters().stats().get,
        7,
        "one GET per merchant over both shards"
    );
}

#[test]
fn an_empty_shard_is_fine() {
    let fleet = Fleet::new(1);
    let world = &fleet.world;
    let mut planned_in = Vec::new();
    for k in 1..=5 {
        let shard = format!("{k}/5");
        let run = fleet.run(&["plan", "-f", "m", "--shard", &shard, "--format", "json"]);
        assert_eq!(run.code, 0, "{run}");
        if planned(&run).is_empty() {
            assert!(
                run.stderr.contains(&format!("no merchant in shard {shard}")),
                "{run}"
            );
        } else {
            planned_in.push(k);
        }
    }
    assert_eq!(planned_in.len(), 1, "store-0 is in exactly one of 5 shards");
    assert_eq!(world.sandbox.counters().stats().get, 1);
}

#[test]
fn bad_shards_are_usage_errors() {
    let fleet = Fleet::new(1);
    let world = &fleet.world;
    for shard in ["0/2", "3/2", "1/0", "x/y"] {
        let run = fleet.run(&["plan", "-f", "m", "--shard", shard]);
        assert_eq!(run.code, 1, "{run}");
        let says = format!("`{shard}` is not a shard: write `K/N` with 1 ≤ K ≤ N");
        assert!(run.stderr.contains(&says), "{run}");
    }
    assert_eq!(world.sandbox.counters().stats().total, 0);
}

#[test]
fn a_saved_plan_holds_only_the_selected_merchants() {
    let fleet = Fleet::new(3);
    let world = &fleet.world;
    let run = fleet.run(&["plan", "-f", "m", "--merchant", "store-2", "--out", "p.json"]);
    assert_eq!(run.code, 0, "{run}");
    let show = world.run(&["show", "p.json", "--format", "json"]);
    assert_eq!(planned(&show), ["store-2"]);
    let run = fleet.run(&["apply", "--plan", "p.json", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(live_of(&world.sandbox, "key-2-5ecr3t").len(), 1);
    assert!(live_of(&world.sandbox, "key-0-5ecr3t").is_empty());
    let both = fleet.run(&["apply", "--plan", "p.json", "--shard", "1/2"]);
    assert_eq!(both.code, 1, "a saved plan is applied whole\n{both}");
}

/// A list endpoint on 127.0.0.1 answering an empty list after `delay`,
/// counting the most requests it held at once.
struct Slow {
    addr: SocketAddr,
    most: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

impl Slow {
    fn start(delay: Duration) -> Slow {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counters = (Arc::clone(&now), Arc::clone(&most));
        rt.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (now, most) = (Arc::clone(&counters.0), Arc::clone(&counters.1));
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if head.len() > 65536 || !matches!(stream.read(&mut byte).await, Ok(1)) {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    let body = r#"{"message":"ok","data":[]}"#;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Slow { addr, most, _rt: rt }
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// `n` merchants declaring nothing, keys `KEY_I`, against `slow`.
fn empty_fleet(n: usize, slow: &Slow, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("invhooks").unwrap();
    cmd.env_clear()
        .current_dir(dir.path())
        .env("INVETERATE_BASE_URL", format!("http://{}/v2.0", slow.addr))
        .args(args);
    std::fs::create_dir(dir.path().join("m")).unwrap();
    for i in 0..n {
        let text = manifest(&format!(
            "merchant: s{i}\napiKeyEnv: KEY_{i}\nsubscriptions: []\n"
        ));
        std::fs::write(dir.path().join(format!("m/s{i}.yaml")), text).unwrap();
        cmd.env(format!("KEY_{i}"), format!("key-{i}-5ecr3t"));
    }
    run(&mut cmd)
}

#[test]
fn plan_reads_at_most_64_lists_at_once() {
    let slow = Slow::start(Duration::from_millis(300));
    let run = empty_fleet(100, &slow, &["plan", "-f", "m", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(planned(&run).len(), 100);
    let most = slow.most();
    assert!((8..=64).contains(&most), "{most} reads in flight");
}

#[test]
fn apply_bounds_reads_by_its_parallelism_flags() {
    let slow = Slow::start(Duration::from_millis(200));
    let args = [
        "apply",
        "-f",
        "m",
        "--auto-approve",
        "--merchant-parallelism",
        "2",
        "--parallelism",
        "2",
    ];
    let run = empty_fleet(12, &slow, &args);
    assert_eq!(run.code, 0, "{run}");
    let most = slow.most();
    assert!((2..=4).contains(&most), "{most} reads in flight");
}
