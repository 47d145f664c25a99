//! Staged rollouts (docs/guides/rollouts.md) through the binary: a fleet
//! of stores on the sandbox, one key each, callbacks on a stub receiver
//! where one store's URL misbehaves. Waves run in order, canaries first; a
//! failed gate stops the next wave; a re-run resumes; an interrupt between
//! waves reports and exits 1; saved plans and shards compose.

use invhooks::sandbox::SandboxConfig;
use serde_json::Value;

use crate::netkit::{response, Stub};
use crate::support::*;

/// A fleet of stores `s01`… on one sandbox, each with its own key.
struct Fleet {
    world: World,
    env: Vec<(String, String)>,
}

fn key(i: usize) -> String {
    format!("waves-key-{i:02}-5ecr3t")
}

impl Fleet {
    /// `n` stores, each declaring one subscription to `url(i)` (store
    /// `i` from 1); `canaries` are marked `canary: true`.
    fn new(n: usize, canaries: &[usize], url: impl Fn(usize) -> String) -> Fleet {
        let config = SandboxConfig {
            api_keys: (1..=n).map(key).collect(),
            // Numbered as they come: the tests read the order of creates.
            ids: invhooks::sandbox::Ids::Sequential,
            ..SandboxConfig::default()
        };
        let world = World::serving(config);
        let fleet = Fleet {
            world,
            env: (1..=n).map(|i| (format!("KEY_{i:02}"), key(i))).collect(),
        };
        fleet.write(n, canaries, url);
        fleet
    }

    /// (Re)writes the fleet file.
    fn write(&self, n: usize, canaries: &[usize], url: impl Fn(usize) -> String) {
        let entries: String = (1..=n)
            .map(|i| {
                let canary = if canaries.contains(&i) {
                    "    canary: true\n"
                } else {
                    ""
                };
                format!(
                    "  - merchant: s{i:02}\n    apiKeyEnv: KEY_{i:02}\n{canary}    vars: {{ URL: \"{}\" }}\n",
                    url(i)
                )
            })
            .collect();
        self.world.write(
            "m/fleet.yaml",
            &format!("version: 1\nmerchants:\n{entries}subscriptions:\n  - {{name: crm, topic: customer.updated, callbackUrl: \"${{URL}}\"}}\n"),
        );
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    fn apply(&self, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "--auto-approve", "-f", "m"];
        args.extend_from_slice(extra);
        self.no_key(self.world.run_env(&args, &self.env()))
    }

    /// `run`, once checked that no store's key is in what it printed.
    fn no_key(&self, run: Run) -> Run {
        for (_, key) in &self.env {
            assert!(
                !run.stdout.contains(key) && !run.stderr.contains(key),
                "a key leaked:\n{run}"
            );
        }
        run
    }

    /// The ids of store `i`'s live subscriptions.
    fn ids(&self, i: usize) -> Vec<String> {
        self.world
            .sandbox
            .subscriptions(&key(i))
            .into_iter()
            .map(|s| s.id)
            .collect()
    }
}

/// The JSON report's waves as (merchants, status) and each store's status.
fn waves(run: &Run) -> Vec<(Vec<String>, String)> {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    let waves = doc["waves"].as_array().unwrap();
    waves
        .iter()
        .map(|w| {
            let merchants = w["merchants"].as_array().unwrap();
            let labels = merchants.iter().map(|m| {
                format!(
                    "{}:{}",
                    m["merchant"].as_str().unwrap(),
                    m["status"].as_str().unwrap()
                )
            });
            (labels.collect(), w["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn labels(statuses: &[&str]) -> Vec<String> {
    statuses.iter().map(|s| (*s).to_owned()).collect()
}

/// A receiver that accepts everything, and a port that refuses (held while
/// the test runs) with a URL on it.
fn receiver() -> (Stub, crate::netkit::Refusing, String) {
    let stub = Stub::start(|_| response("200 OK", "text/plain", "ok"));
    let refusing = crate::netkit::Refusing::new();
    let down = format!("http://127.0.0.1:{}/down", refusing.port());
    (stub, refusing, down)
}

#[test]
fn waves_run_in_order_canaries_first_then_by_label() {
    let fleet = Fleet::new(5, &[4], |i| format!("https://hooks.example/s{i}"));
    let run = fleet.apply(&["--waves", "1,60%,100%", "--format", "json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        waves(&run),
        [
            (labels(&["s04:applied"]), "passed".to_owned()),
            (labels(&["s01:applied", "s02:applied"]), "passed".to_owned()),
            (labels(&["s03:applied", "s05:applied"]), "passed".to_owned()),
        ]
    );
    // The sandbox numbers creates as they come: each wave after the last.
    let id = |i: usize| fleet.ids(i).remove(0);
    assert!(id(4) < id(1) && id(4) < id(2), "the canary first");
    assert!(id(1).max(id(2)) < id(3).min(id(5)), "wave 2 before wave 3");
    for line in [
        "wave 1 of 3: 1 merchant(s)",
        "wave 1: gate `converge` passed",
        "wave 3 of 3: 2 merchant(s)",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{run}");
    }
}

#[test]
fn a_failed_check_gate_stops_the_next_wave_and_a_re_run_resumes() {
    let (stub, _refusing, down) = receiver();
    let up = format!("http://{}/hook", stub.addr());
    let url = |i: usize| if i == 2 { down.clone() } else { up.clone() };
    let fleet = Fleet::new(4, &[], url);
    let summary = fleet.world.path("summary.md");
    let mut cmd = fleet.world.command(&[
        "apply",
        "--auto-approve",
        "-f",
        "m",
        "--waves",
        "1,2,100%",
        "--wave-gate",
        "check",
    ]);
    cmd.envs(fleet.env()).env("GITHUB_STEP_SUMMARY", &summary);
    let run = fleet.no_key(run(&mut cmd));
    assert_eq!(run.code, 1, "{run}");
    snapshot!(fleet.world, "waves_check_gate_failed", run.stdout);
    assert!(
        run.stderr.contains(
            "wave 2: gate `check` failed; the rollout stops here:\n  merchant s02: http://127.0.0.1:"
        ) && run.stderr.contains("/down: TCP: connection refused"),
        "{run}"
    );
    assert!(
        fleet.ids(3).is_empty() && fleet.ids(4).is_empty(),
        "wave 3 was not started\n{run}"
    );
    assert_eq!(fleet.ids(2).len(), 1, "wave 2 was applied before its gate");
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.contains(
            "- ❌ wave 2 of 3 (1 store(s), gate `check`): failed\n  - merchant `s02`: `http://127.0.0.1:"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("<details><summary>⏸️ not started: 2</summary>\n\n`s03` `s04`"),
        "{markdown}"
    );

    // The same command again fails the same gate: re-running never skips it.
    let before = fleet.world.sandbox.counters().stats();
    let again = fleet.apply(&["--waves", "1,2,100%", "--wave-gate", "check"]);
    assert_eq!(again.code, 1, "{again}");
    let after = fleet.world.sandbox.counters().stats();
    assert_eq!(
        (after.post, after.put),
        (before.post, before.put),
        "converged stores are no-ops\n{again}"
    );

    // Fixed: waves 1 and 2 pass at once, wave 3 is rolled out.
    fleet.write(4, &[], |_| up.clone());
    let resumed = fleet.apply(&["--waves", "1,2,100%", "--wave-gate", "check", "--format", "json"]);
    assert_eq!(resumed.code, 0, "{resumed}");
    assert_eq!(
        waves(&resumed),
        [
            (labels(&["s01:converged"]), "passed".to_owned()),
            (labels(&["s02:applied"]), "passed".to_owned()),
            (labels(&["s03:applied", "s04:applied"]), "passed".to_owned()),
        ]
    );
    let last = fleet.world.sandbox.counters().stats();
    assert_eq!(
        (last.post - after.post, last.put - after.put),
        (2, 1),
        "s02's URL updated, s03 and s04 created"
    );
}

#[test]
fn a_test_event_gate_fails_where_the_receiver_answers_but_rejects_events() {
    let stub = Stub::start(|r| match (r.method(), r.path()) {
        ("POST", "/broken") => response("500 Internal Server Error", "text/plain", "no"),
        _ => response("200 OK", "text/plain", "ok"),
    });
    let url = |i: usize| {
        format!(
            "http://{}/{}",
            stub.addr(),
            if i == 1 { "broken" } else { "fine" }
        )
    };
    let fleet = Fleet::new(3, &[], url);
    let check = fleet.apply(&["--waves", "1,100%", "--wave-gate", "check"]);
    assert_eq!(check.code, 0, "the probe alone passes\n{check}");
    let events = fleet.apply(&[
        "--waves",
        "1,100%",
        "--wave-gate",
        "test-event",
        "--format",
        "json",
    ]);
    assert_eq!(events.code, 1, "{events}");
    let doc: Value = serde_json::from_str(&events.stdout).unwrap();
    assert_eq!(doc["waves"][0]["status"], "failed");
    assert_eq!(doc["waves"][1]["status"], "not started");
    let failure = &doc["waves"][0]["failures"][0];
    assert_eq!(failure["merchant"], "s01");
    assert_eq!(failure["reason"], "test event rejected (HTTP 500)");
    let posts = stub.requests().iter().filter(|r| r.method() == "POST").count();
    assert_eq!(posts, 1, "one test event, to the one store of wave 1");
}

#[test]
fn a_failed_store_fails_its_wave_but_never_stops_the_others_in_it() {
    let fleet = Fleet::new(4, &[], |i| format!("https://hooks.example/s{i}"));
    // s02 moves to a file of its own whose topic the sandbox rejects (400).
    let text = std::fs::read_to_string(fleet.world.path("m/fleet.yaml")).unwrap();
    let entry = "  - merchant: s02\n    apiKeyEnv: KEY_02\n    vars: { URL: \"https://hooks.example/s2\" }\n";
    assert!(text.contains(entry));
    fleet.world.write("m/fleet.yaml", &text.replace(entry, ""));
    let s02 = "merchant: s02\napiKeyEnv: KEY_02\nallowUnknownTopics: true\nsubscriptions:\n";
    fleet
        .world
        .write("m/s02.yaml", &manifest(&format!("{s02}{}", entry_line())));
    let run = fleet.apply(&["--waves", "1,3,100%", "--format", "json"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        waves(&run),
        [
            (labels(&["s01:applied"]), "passed".to_owned()),
            (labels(&["s02:failed", "s03:applied"]), "failed".to_owned()),
            (labels(&["s04:not started"]), "not started".to_owned()),
        ]
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let reason = doc["waves"][1]["failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("1 change(s) failed or skipped; first: ") && reason.contains("400"),
        "{reason}"
    );
    assert_eq!(fleet.ids(3).len(), 1, "s03, in the same wave, was applied");
    assert!(fleet.ids(4).is_empty(), "{run}");
}

fn entry_line() -> String {
    entry("crm", "customer.teleported", "https://hooks.example/s2")
}

#[test]
fn keep_going_skips_a_refused_store_in_its_wave_and_the_rollout_goes_on() {
    let fleet = Fleet::new(3, &[], |i| format!("https://hooks.example/s{i}"));
    let seeds: Vec<(&str, String, &str)> = (0..10)
        .map(|i| ("customer.updated", format!("old{i}"), "https://old.example/"))
        .collect();
    let refs: Vec<(&str, &str, &str)> = seeds.iter().map(|(t, n, u)| (*t, n.as_str(), *u)).collect();
    fleet.world.sandbox.seed(&key(1), &refs);
    let refused = fleet.apply(&["--waves", "1,100%"]);
    assert_eq!(
        refused.code, 3,
        "without --keep-going nothing is written\n{refused}"
    );
    assert!(fleet.ids(2).is_empty() && fleet.ids(3).is_empty(), "{refused}");
    let run = fleet.apply(&["--waves", "1,100%", "--keep-going", "--format", "json"]);
    assert_eq!(run.code, 3, "{run}");
    assert_eq!(
        waves(&run),
        [
            (labels(&["s01:refused"]), "passed".to_owned()),
            (labels(&["s02:applied", "s03:applied"]), "passed".to_owned()),
        ]
    );
    assert_eq!(fleet.ids(1).len(), 10, "the refused store kept its subscriptions");
}

#[test]
fn a_saved_plan_rolls_out_in_waves_and_shards_each_roll_out_their_own() {
    let fleet = Fleet::new(4, &[3], |i| format!("https://hooks.example/s{i}"));
    let env = fleet.env();
    let planned = fleet
        .world
        .run_env(&["plan", "-f", "m", "--out", "plan.json"], &env);
    assert_eq!(planned.code, 0, "{planned}");
    let run = fleet.world.run_env(
        &[
            "apply",
            "--auto-approve",
            "--plan",
            "plan.json",
            "--waves",
            "1,100%",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        waves(&run)[0],
        (labels(&["s03:applied"]), "passed".to_owned()),
        "the canary, from the saved plan"
    );

    let fleet = Fleet::new(6, &[], |i| format!("https://hooks.example/s{i}"));
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let run = fleet.apply(&["--shard", shard, "--waves", "1,100%", "--format", "json"]);
        assert_eq!(run.code, 0, "{run}");
        let waves = waves(&run);
        assert_eq!(waves[0].0.len(), 1, "{shard}: one store first\n{run}");
        seen.extend(waves.into_iter().flat_map(|(m, _)| m));
    }
    seen.sort();
    assert_eq!(
        seen,
        (1..=6).map(|i| format!("s{i:02}:applied")).collect::<Vec<_>>(),
        "every store once, over the shards"
    );
}

#[cfg(unix)]
#[test]
fn an_interrupt_between_waves_reports_exits_1_and_a_re_run_resumes() {
    let fleet = Fleet::new(3, &[], |i| format!("https://hooks.example/s{i}"));
    let env = fleet.env();
    let args = [
        "apply",
        "--auto-approve",
        "-f",
        "m",
        "--waves",
        "1,100%",
        "--wave-pause",
        "600",
        "--format",
        "json",
    ];
    let started = std::time::Instant::now();
    let mut running = Running::start_env(&fleet.world, &args, &env);
    // Wave 1 passed and the pause began (a signal during wave 1's
    // verification, which the count of reads alone allowed, interrupts wave 1).
    running.await_stderr("waiting 600 s before wave 2");
    running.signal("TERM");
    let run = fleet.no_key(running.finish("SIGTERM during the pause"));
    assert!(started.elapsed().as_secs() < 60, "the pause ended at once");
    assert_eq!(run.code, 1, "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert_eq!(
        waves(&run),
        [
            (labels(&["s01:applied"]), "passed".to_owned()),
            (
                labels(&["s02:not started", "s03:not started"]),
                "not started".to_owned()
            ),
        ]
    );
    assert!(fleet.ids(2).is_empty() && fleet.ids(3).is_empty(), "{run}");
    let again = fleet.apply(&["--waves", "1,100%", "--format", "json"]);
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(
        waves(&again)[0],
        (labels(&["s01:converged"]), "passed".to_owned())
    );
    assert_eq!(fleet.ids(2).len() + fleet.ids(3).len(), 2);
}

#[test]
fn bad_wave_flags_are_usage_errors_that_say_what_to_write() {
    let fleet = Fleet::new(1, &[], |_| "https://hooks.example/".to_owned());
    for (args, message) in [
        (
            vec!["--waves", "10,5"],
            "sizes are cumulative (merchants in all so far), so `5` after `10` adds nothing",
        ),
        (vec!["--waves", "0"], "a wave holds at least one merchant"),
        (vec!["--waves", "1,200%"], "a percentage is 1% to 100%"),
        (vec!["--wave-pause", "5"], "--waves <SIZES>"),
        (
            vec!["--waves", "1", "--wave-pause", "86401"],
            "86401 is not in 0..=86400",
        ),
        (
            vec!["--wave-gate", "smoke"],
            "invalid value 'smoke' for '--wave-gate <GATE>'",
        ),
    ] {
        let run = fleet.apply(&args);
        assert_eq!(run.code, 1, "{args:?}\n{run}");
        assert!(run.stderr.contains(message), "{args:?}: {message}\n{run}");
    }
    assert_eq!(
        fleet.world.sandbox.counters().stats().total,
        0,
        "nothing was sent"
    );
}

#[test]
fn sizes_short_of_every_store_roll_out_that_many_and_leave_the_rest_for_later() {
    let fleet = Fleet::new(3, &[2], |i| format!("https://hooks.example/s{i}"));
    let run = fleet.apply(&["--waves", "1"]);
    assert_eq!(run.code, 0, "the rollout asked for is done\n{run}");
    assert!(
        run.stdout.contains(
            "wave 1 of 1 (1 store(s), gate `converge`): passed\n  s02  applied\n\
             past the last `--waves` size (2 store(s)): not started\n  s01  not started\n  s03  not started\n"
        ),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("2 store(s) are past the last `--waves` size and were not started."),
        "{run}"
    );
    assert!(fleet.ids(1).is_empty() && fleet.ids(3).is_empty(), "{run}");
}
