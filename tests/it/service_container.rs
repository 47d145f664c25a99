//! The sandbox as a CI service container: the URL it prints is one the tool
//! accepts, and plain http to a sandbox by a host name of its own works only
//! with the explicit, loudly warned `INVHOOKS_ALLOW_INSECURE_SANDBOX` opt-in,
//! never for Inveterate's API.

use crate::support::*;

const OPT_IN: &str = "INVHOOKS_ALLOW_INSECURE_SANDBOX";

/// Starts `invhooks sandbox --listen ADDR --api-key KEY` and returns it with
/// the base URL its startup message tells users to export.
fn sandbox(listen: &str) -> (SandboxProcess, String, String) {
    let mut server = SandboxProcess::start(&["--listen", listen, "--api-key", KEY]);
    let mut banner = server.banner.join("\n");
    banner.push('\n');
    // The note about other containers is the line after the URL, if any.
    if !listen.starts_with("127.") {
        banner.push_str(&server.rest.next().unwrap().unwrap());
    }
    let url = server.url.clone();
    (server, url, banner)
}

#[test]
fn a_sandbox_on_every_interface_prints_a_url_the_tool_accepts() {
    let (_server, url, banner) = sandbox("0.0.0.0:0");
    assert!(url.starts_with("http://127.0.0.1:"), "{banner}");
    assert!(!url.contains(":0/"), "the real port, not 0: {banner}");
    assert!(banner.contains(&format!("{OPT_IN}=sandbox")), "{banner}");
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let run = world.run(&["plan", "--base-url", &url, "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("No changes"), "{run}");
}

#[test]
fn a_loopback_sandbox_prints_its_address_and_no_opt_in_note() {
    let (_server, url, banner) = sandbox("127.0.0.1:0");
    assert!(url.starts_with("http://127.0.0.1:"), "{banner}");
    assert!(!banner.contains(OPT_IN), "{banner}");
}

#[test]
fn plain_http_to_a_named_sandbox_needs_the_opt_in_and_warns_every_run() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    // An address of this machine that is not "loopback" to the tool, as a
    // service container's name would be.
    let port = world.sandbox.addr().port();
    let url = format!("http://[::ffff:127.0.0.1]:{port}/v2.0");

    let refused = world.run(&["plan", "--base-url", &url]);
    assert_eq!(refused.code, 1, "{refused}");
    assert!(refused.stderr.contains("is not https"), "{refused}");
    assert!(
        refused.stderr.contains(OPT_IN),
        "the error names the way out:\n{refused}"
    );
    world.sandbox.counters().reset();

    let allowed = world.run_env(
        &["plan", "--base-url", &url, "--detailed-exitcode"],
        &[(OPT_IN, "[::ffff:7f00:1]")],
    );
    assert_eq!(allowed.code, 2, "{allowed}");
    assert!(allowed.stdout.contains("Plan: 1 to create"), "{allowed}");
    assert!(
        allowed
            .stderr
            .contains("warning: `INVHOOKS_ALLOW_INSECURE_SANDBOX` sends the API key in clear text"),
        "{allowed}"
    );
    assert_eq!(
        world.sandbox.counters().stats().get,
        1,
        "the plan read the named sandbox"
    );

    // Every run warns, not only the first; another host stays refused.
    let again = world.run_env(
        &["apply", "--auto-approve", "--base-url", &url],
        &[(OPT_IN, "[::ffff:7f00:1]")],
    );
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stderr.contains("clear text"), "{again}");
    let other = world.run_env(&["plan", "--base-url", &url], &[(OPT_IN, "sandbox")]);
    assert_eq!(other.code, 1, "{other}");
}

#[test]
fn the_opt_in_is_refused_for_inveterates_api_before_any_request() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    for (base, listed) in [
        ("http://public.inveterateapi.com/v2.0", "public.inveterateapi.com"),
        (
            "http://eu.inveterateapi.com:8080/v2.0",
            "eu.inveterateapi.com,inveterateapi.com",
        ),
    ] {
        let run = world.run_env(&["plan", "--base-url", base], &[(OPT_IN, listed)]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("plain http to Inveterate's API"), "{run}");
        assert!(
            run.stderr.contains("never applies to `*.inveterateapi.com`"),
            "{run}"
        );
        assert!(
            !run.stderr.contains("warning:"),
            "not used, so no warning:\n{run}"
        );
    }
}

#[test]
fn a_connection_error_names_the_host_and_port_never_the_key() {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    let refusing = crate::netkit::Refusing::new();
    let closed = refusing.port();
    let base = format!("http://127.0.0.1:{closed}/v2.0");
    // `run` also fails the test if the key appears in any output. The two
    // runs wait out their retries' backoff side by side.
    let (run, named) = std::thread::scope(|scope| {
        let run = scope.spawn(|| world.run(&["plan", "--base-url", &base, "--timeout", "5"]));
        let named = world.run_env(
            &["plan", "--base-url", "http://sandbox.invalid:8787/v2.0"],
            &[(OPT_IN, "sandbox.invalid")],
        );
        (run.join().unwrap(), named)
    });
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains(&format!("could not connect to `127.0.0.1:{closed}`")),
        "{run}"
    );
    assert_eq!(named.code, 1, "{named}");
    assert!(
        named
            .stderr
            .contains("could not connect to `sandbox.invalid:8787`"),
        "{named}"
    );
}

/// A container runtime stops a service with SIGTERM: the sandbox stops at
/// once and exits 0 (the run's one signal watch, as `apply`'s).
#[cfg(unix)]
#[test]
fn sigterm_stops_the_sandbox_with_exit_0() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut child = Command::new(env!("CARGO_BIN_EXE_invhooks"))
        .env_clear()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--api-key", KEY])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The banner comes once the signal handlers are in place.
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    while !lines
        .next()
        .unwrap()
        .unwrap()
        .contains("export INVETERATE_BASE_URL=")
    {}
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the sandbox did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
}
