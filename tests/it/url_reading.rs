//! One reading of a callback URL (SPEC "Safety by construction", finding 3
//! of issue 19): `https://attacker.example\@hooks.acme.dev/x` validated and
//! every plan showed `https://***@hooks.acme.dev/x`, while the WHATWG parser
//! and the sandbox's deliveries went to `attacker.example`. Now a manifest
//! may not declare it, a policy cannot be passed with it, and a live one is
//! shown with the host its events go to; a live value that is no URL shows
//! as `(not a valid URL)`, never as a host.

use std::time::{Duration, Instant};

use crate::netkit::{json, Stub};
use crate::support::*;

const HOSTILE: &str = "https://attacker.example\\\\@hooks.acme.dev/x";

#[test]
fn a_backslash_in_a_declared_url_is_an_error_at_its_line_even_under_a_policy() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: acme\nsubscriptions:\n{}",
            entry("crm", "customer.updated", HOSTILE)
        )),
    );
    world.write(
        "policy.yaml",
        "version: 1\nallowedCallbackHosts: [\"hooks.acme.dev\"]\n",
    );
    for args in [
        &["validate"][..],
        &["validate", "--policy", "policy.yaml"],
        &["plan"],
    ] {
        let run = world.run(args);
        assert_eq!(run.code, 1, "{args:?}: {run}");
        assert!(
            run.stderr.contains(
                "error: webhooks.yaml:4: callback URL `https://attacker.example/@hooks.acme.dev/x` contains a backslash (`\\`)"
            ),
            "{args:?}: {run}"
        );
    }
    assert_eq!(world.sandbox.counters().stats().total, 0, "nothing sent");
}

/// What `GET /_sandbox/deliveries` says once nothing is pending (10 s at most).
fn settled(world: &World) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log: serde_json::Value = get_json(world, "/_sandbox/deliveries");
        if log["pending"] == 0 || Instant::now() > deadline {
            assert_eq!(log["pending"], 0, "deliveries still pending: {log}");
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET to the sandbox, its JSON body.
fn get_json(world: &World, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(world.sandbox.addr()).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap()
}

/// A hostile live subscription (made in the admin, not by a manifest) is
/// shown with the host the sandbox delivers its events to.
#[test]
fn a_hostile_live_url_shows_the_host_its_events_go_to() {
    let (first, second) = (
        Stub::start(|_| json("200 OK", "{}")),
        Stub::start(|_| json("200 OK", "{}")),
    );
    let hostile = format!("http://{}\\@{}/x", first.addr(), second.addr());
    let world = World::new();
    world.write("webhooks.yaml", &manifest("merchant: acme\nsubscriptions: []\n"));
    world.seed(&[("customer.cancelled", "hostile", &hostile)]);
    let shown = format!("http://{}/@{}/x", first.addr(), second.addr());
    for format in ["text", "json", "markdown"] {
        let run = world.run(&["plan", "--format", format]);
        assert_eq!(run.code, 0, "{format}: {run}");
        assert!(run.stdout.contains(&shown), "{format}: shown as read:\n{run}");
        assert!(
            !run.stdout.contains(&format!("***@{}", second.addr())),
            "{format}: never as the other host:\n{run}"
        );
    }
    let run = world.run(&["trigger", "customer.cancelled"]);
    assert_eq!(run.code, 0, "{run}");
    let log = settled(&world);
    assert_eq!(log["deliveries"][0]["delivered"], true, "{log}");
    assert_eq!(
        (first.requests().len(), second.requests().len()),
        (1, 0),
        "delivered to the host the plan shows"
    );
}

/// A live value no parser reads as a URL is shown as such, never as text a
/// reviewer could take for a host.
#[test]
fn a_live_value_that_is_no_url_shows_as_not_a_valid_url() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("merchant: acme\nsubscriptions: []\n"));
    world.seed(&[
        ("customer.cancelled", "port", "https://hooks.acme.dev:99999/x"),
        ("customer.updated", "space", "https://hooks.acme .dev/x"),
    ]);
    for format in ["text", "json", "markdown"] {
        let run = world.run(&["drift", "--format", format]);
        assert_eq!(run.code, 2, "{format}: {run}");
        assert_eq!(
            run.stdout.matches("(not a valid URL)").count(),
            2,
            "{format}: {run}"
        );
        assert!(!run.stdout.contains("hooks.acme"), "{format}: {run}");
    }
}
