//! Bounded inputs and closed pipes through the real binary (issue 19,
//! findings 9 and 12): every numeric flag of every command takes any value
//! and either runs or is a usage error before any request, never a panic
//! (exit 101); a closed stdout or stderr never makes one either.
#![cfg(unix)]

use std::process::Stdio;

use proptest::prelude::*;

use crate::support::*;

/// The exit code a panic gives; it must never happen.
const PANIC: i32 = 101;

/// A flag and the documented range of its values: integers (inclusive),
/// or `None` for one whose values are not integers (checked to never
/// panic only).
struct Flag {
    command: &'static str,
    flag: &'static str,
    range: Option<(i128, i128)>,
}

const FLAGS: [Flag; 13] = [
    Flag {
        command: "plan",
        flag: "--timeout",
        range: Some((1, 3600)),
    },
    Flag {
        command: "apply",
        flag: "--timeout",
        range: Some((1, 3600)),
    },
    Flag {
        command: "apply",
        flag: "--wait",
        range: Some((0, 3600)),
    },
    Flag {
        command: "apply",
        flag: "--parallelism",
        range: Some((1, 64)),
    },
    Flag {
        command: "apply",
        flag: "--merchant-parallelism",
        range: Some((1, 256)),
    },
    Flag {
        command: "apply",
        flag: "--shard",
        range: None,
    },
    Flag {
        command: "sandbox",
        flag: "--seed",
        range: Some((0, u64::MAX as i128)),
    },
    Flag {
        command: "sandbox",
        flag: "--latency",
        range: Some((0, 600_000)),
    },
    Flag {
        command: "sandbox",
        flag: "--visibility-delay",
        range: Some((0, 600_000)),
    },
    Flag {
        command: "sandbox",
        flag: "--error-rate",
        range: Some((0, 1)),
    },
    Flag {
        command: "sandbox",
        flag: "--drop-rate",
        range: Some((0, 1)),
    },
    Flag {
        command: "sandbox",
        flag: "--lying-list-rate",
        range: Some((0, 1)),
    },
    Flag {
        command: "sandbox",
        flag: "--rate-limit",
        range: None,
    },
];

/// Values of every kind: in and out of range, past every integer type,
/// negative, fractional, not numbers at all.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i128..5000).prop_map(|n| n.to_string()),
        any::<i128>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        Just(i64::MAX.to_string()),
        "[0-9]{18,40}",
        any::<f64>().prop_map(|f| f.to_string()),
        Just("1e309".to_owned()),
        Just("-0".to_owned()),
        "[0-9]{1,3}/[0-9]{1,25}",
        "\\PC{0,12}",
    ]
}

/// Runs `invhooks COMMAND FLAG=VALUE` where it does the least: `apply`
/// against a fresh sandbox with one subscription to create (so `--wait`
/// and friends are used), `plan` likewise, `sandbox` on an address it
/// cannot bind (after its settings are checked).
fn run_with(flag: &Flag, value: &str) -> (Run, u64) {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "subscriptions:\n{}",
            entry("crm", "customer.updated", "https://a.example/")
        )),
    );
    let arg = format!("{}={value}", flag.flag);
    let run = match flag.command {
        "sandbox" => world.run(&["sandbox", "--listen", "192.0.2.1:9", &arg]),
        "apply" => world.run(&["apply", "--auto-approve", &arg]),
        other => world.run(&[other, &arg]),
    };
    (run, world.sandbox.counters().stats().total)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Any value of any numeric flag: never exit 101. Outside its range
    /// (or not a number), a usage error naming the flag, before any request;
    /// an integer inside it is accepted.
    #[test]
    fn no_value_of_a_numeric_flag_panics(index in 0..FLAGS.len(), value in value()) {
        let flag = &FLAGS[index];
        let (run, requests) = run_with(flag, &value);
        prop_assert_ne!(run.code, PANIC, "{} {}={:?}:\n{}", flag.command, flag.flag, value, run);
        prop_assert!(!run.stderr.contains("crashed"), "{run}");
        let usage = run.stderr.contains("invalid value");
        if usage {
            prop_assert_eq!(run.code, 1);
            prop_assert!(run.stderr.contains(flag.flag), "{run}");
            prop_assert_eq!(requests, 0, "a usage error before any request");
        }
        let in_range = match (flag.range, value.trim().parse::<i128>()) {
            (Some((low, high)), Ok(n)) => (low..=high).contains(&n) && !value.starts_with(['+', '-']),
            _ => false,
        };
        if in_range {
            prop_assert!(!usage, "{}={} is in the documented range:\n{}", flag.flag, value, run);
        }
    }
}

/// The documented limit of `--wait` (the finding: 2^63-1 created, then
/// panicked): refused before any request, with the range.
#[test]
fn a_wait_past_its_range_is_a_usage_error_before_any_request() {
    let flag = &FLAGS[2];
    let (run, requests) = run_with(flag, "9223372036854775807");
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("0..=3600"), "{run}");
    assert_eq!(requests, 0);
    let (run, _) = run_with(flag, "3600");
    assert_eq!(run.code, 0, "{run}");
}

/// Many `-v`: as `-vv`, never an overflow.
#[test]
fn any_number_of_v_flags_is_fine() {
    let world = World::new();
    let many = format!("-{}", "v".repeat(400));
    let run = world.run(&[&many, "topics"]);
    assert_eq!(run.code, 0, "{run}");
}

/// Runs the binary with stdout and stderr on a pipe whose reading end is
/// already closed (as `… 2>&1 | head` once `head` has exited); its exit
/// code.
fn closed_pipe_exit(world: &World, args: &[&str]) -> i32 {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = world
        .process(args)
        .stdout(Stdio::from(writer.try_clone().unwrap()))
        .stderr(Stdio::from(writer))
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

/// Finding 12: a closed stdout and stderr end every command with the exit
/// code it has with open ones, never 101 (before, the final `eprint!` of
/// an error panicked on EPIPE).
#[test]
fn a_closed_stdout_and_stderr_never_panic() {
    let world = World::new();
    let yaml = manifest(&format!(
        "subscriptions:\n{}",
        entry("crm", "customer.updated", "https://a.example/")
    ));
    world.write("webhooks.yaml", &yaml);
    world.write("bad.yaml", "version: 1\nsubscriptions: [{name: x}]\n");
    let cases: [&[&str]; 14] = [
        &["plan"],
        &["plan", "--detailed-exitcode"],
        &["plan", "--format", "json"],
        &["drift"],
        &["validate"],
        &["validate", "-f", "bad.yaml"],
        &["plan", "-f", "missing.yaml"],
        &["topics"],
        &["schema"],
        &["completions", "bash"],
        &["--help"],
        &["--no-such-flag"],
        &["export"],
        &["apply", "--auto-approve"],
    ];
    for args in cases {
        let expected = world.run(args).code;
        if args == ["apply", "--auto-approve"] {
            // Applied above: a second one has nothing to do.
            assert_eq!(closed_pipe_exit(&world, args), 0, "{args:?}");
            continue;
        }
        let code = closed_pipe_exit(&world, args);
        assert_ne!(code, PANIC, "{args:?}");
        assert_eq!(code, expected, "{args:?}: the exit code it has with open pipes");
    }
    assert_ne!(closed_pipe_exit(&world, &["demo"]), PANIC);
}
