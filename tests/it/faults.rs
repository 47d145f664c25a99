//! `invhooks sandbox` with fault injection: the flags, their validation,
//! and the startup line that names the active faults.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::*;

fn raw_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Inveterate-Api-Key: {KEY}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn sandbox_announces_its_faults_and_injects_them() {
    let sandbox = SandboxProcess::start(&[
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        KEY,
        "--seed",
        "7",
        "--error-rate",
        "1",
        "--rate-limit",
        "50",
        "--visibility-delay",
        "300",
    ]);
    let banner = sandbox.banner.join("\n");
    assert!(
        banner.contains("faults: --error-rate 1 --rate-limit 50 --visibility-delay 300 (seed 7)"),
        "{banner}"
    );
    assert!(!banner.contains(KEY), "{banner}");
    let addr = banner
        .split("export INVETERATE_BASE_URL=http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {banner}"))
        .to_owned();

    let response = raw_get(&addr, "/v2.0/admin/webhook-subscriptions");
    assert!(response.starts_with("HTTP/1.1 500"), "{response}");
    assert!(
        response.ends_with(r#"{"data":{},"message":"internal error (injected)"}"#)
            || response.ends_with(r#"{"message":"internal error (injected)","data":{}}"#),
        "{response}"
    );
    let stats = raw_get(&addr, "/_sandbox/stats");
    assert!(stats.contains(r#""errors":1"#), "{stats}");
}

#[test]
fn sandbox_without_fault_flags_says_none() {
    let sandbox = SandboxProcess::start(&["--listen", "127.0.0.1:0", "--api-key", KEY]);
    let faults = sandbox
        .banner
        .iter()
        .find(|line| line.contains("faults:"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(faults.trim(), "faults: none");
}

#[test]
fn out_of_range_fault_flags_are_usage_errors() {
    for (flag, value, needle) in [
        ("--error-rate", "1.5", "expected a probability between 0 and 1"),
        (
            "--partial-failure-rate",
            "-0.2",
            "expected a probability between 0 and 1",
        ),
        (
            "--drop-rate",
            "sometimes",
            "expected a probability between 0 and 1",
        ),
        (
            "--rate-limit",
            "0",
            "expected a number of requests per second greater than 0",
        ),
        ("--latency", "soon", "invalid value"),
    ] {
        let output = assert_cmd::Command::cargo_bin("invhooks")
            .unwrap()
            .env_clear()
            .args(["sandbox", "--listen", "127.0.0.1:0", &format!("{flag}={value}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flag}={value}: {stderr}");
        assert!(stderr.contains(needle), "{flag}={value}: {stderr}");
        assert!(stderr.contains(flag), "{flag}={value}: {stderr}");
    }
}

/// The sandbox's state follows keys, not the order of `--api-key`: applied
/// with the keys one way, planned after a restart with them reordered,
/// each merchant still has exactly its own subscriptions.
#[test]
fn sandbox_state_follows_keys_across_a_restart_with_keys_reordered() {
    use invhooks::sandbox::SandboxConfig;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let start = |keys: &[&str]| {
        World::serving(SandboxConfig {
            api_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            state_file: Some(state.clone()),
            ..SandboxConfig::default()
        })
    };
    let world = World {
        dir,
        ..start(&[KEY, KEY_B])
    };
    let hook = |name: &str, topic: &str| {
        format!("  - {{name: {name}, topic: {topic}, callbackUrl: \"https://{name}.example/\"}}\n")
    };
    world.write(
        "a.yaml",
        &manifest(&format!(
            "merchant: a\nsubscriptions:\n{}",
            hook("crm", "customer.updated")
        )),
    );
    world.write(
        "b.yaml",
        &manifest(&format!(
            "merchant: b\napiKeyEnv: INVETERATE_API_KEY_B\nsubscriptions:\n{}",
            hook("erp", "customer.ordered")
        )),
    );
    let both = ["-f", "a.yaml", "-f", "b.yaml"];
    let key_b = [("INVETERATE_API_KEY_B", KEY_B)];
    let applied = world.run_env(&[&["apply", "--auto-approve"][..], &both].concat(), &key_b);
    assert_eq!(applied.code, 0, "{applied}");

    let World {
        sandbox,
        dir,
        runtime,
    } = world;
    drop(sandbox);
    drop(runtime); // stops it
    let world = World {
        dir,
        ..start(&[KEY_B, KEY])
    };
    let planned = world.run_env(&[&["plan", "--detailed-exitcode"][..], &both].concat(), &key_b);
    assert_eq!(planned.code, 0, "no changes for either merchant:\n{planned}");
    let url = |name: &str| format!("https://{name}.example/");
    assert_eq!(
        live_of(&world.sandbox, KEY),
        [("customer.updated".into(), "crm".into(), url("crm"))]
    );
    assert_eq!(
        live_of(&world.sandbox, KEY_B),
        [("customer.ordered".into(), "erp".into(), url("erp"))]
    );
    let written = std::fs::read_to_string(world.path("state.json")).unwrap();
    assert!(!written.contains(KEY) && !written.contains(KEY_B), "{written}");
}

/// `--ids`: random by default (UUID-shaped, in no order, the same for the
/// same `--seed`), `wh_000001`, … with `--ids sequential`.
#[test]
fn sandbox_ids_are_random_unless_sequential_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let entries: String = (0..6)
        .map(|i| entry(&format!("n{i}"), "customer.updated", "https://a.example/"))
        .collect();
    std::fs::write(
        dir.path().join("webhooks.yaml"),
        manifest(&format!("subscriptions:\n{entries}")),
    )
    .unwrap();
    let ids_of = |flags: &[&str]| -> Vec<String> {
        let mut args = vec!["--listen", "127.0.0.1:0", "--api-key", KEY];
        args.extend_from_slice(flags);
        let sandbox = SandboxProcess::start(&args);
        let mut cmd = assert_cmd::Command::cargo_bin("invhooks").unwrap();
        cmd.env_clear()
            .current_dir(dir.path())
            .env("INVETERATE_API_KEY", KEY)
            .env("INVETERATE_BASE_URL", &sandbox.url)
            .args(["apply", "--auto-approve", "--parallelism", "1"]);
        let applied = run(&mut cmd);
        assert_eq!(applied.code, 0, "{applied}");
        let addr = sandbox
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/v2.0");
        let response = raw_get(addr, "/v2.0/admin/webhook-subscriptions");
        let body: serde_json::Value =
            serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        let mut subs: Vec<(String, String)> = body["data"]["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // Created n0, n1, … in this order (one request at a time).
        subs.sort();
        subs.into_iter().map(|(_, id)| id).collect()
    };
    let sequential = ids_of(&["--ids", "sequential"]);
    assert_eq!(
        sequential,
        [
            "wh_000001",
            "wh_000002",
            "wh_000003",
            "wh_000004",
            "wh_000005",
            "wh_000006"
        ]
    );
    let random = ids_of(&["--seed", "5"]);
    assert_eq!(random, ids_of(&["--seed", "5", "--ids", "random"]), "seeded");
    assert_ne!(random, ids_of(&["--seed", "6"]));
    assert!(random.iter().all(|id| id.len() == 36), "{random:?}");
    let mut sorted = random.clone();
    sorted.sort();
    assert_ne!(sorted, random, "in no order: {random:?}");
}
