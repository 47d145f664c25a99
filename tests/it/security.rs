//! Hostile servers and the API key (SECURITY.md): where the key may
//! travel, what a lying or broken server can make the tool do, and that
//! the key is never printed — not in output, `-vv` logs, errors or panics.
//! Every server here is a scripted stub on 127.0.0.1 ([`crate::netkit`]).

use std::time::{Duration, Instant};

use invhooks::api::{ApiKey, BaseUrl, Client, ClientOptions, Failure, Http, RetryPolicy};
use invhooks::apply::Remote as _;

use crate::netkit::{json, response, Reply, Stub};
use crate::support::*;

const RESOURCE: &str = "/v2.0/admin/webhook-subscriptions";
const EMPTY_LIST: &str = r#"{"message":"ok","data":[]}"#;

/// A world whose manifest declares nothing (a plan only needs the GET).
fn empty_world() -> World {
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    world
}

// ---- where the key travels -------------------------------------------

#[test]
fn a_redirect_to_another_origin_is_not_followed_and_the_key_stays_home() {
    let elsewhere = Stub::start(|_| json("200 OK", EMPTY_LIST));
    let target = format!("http://{}{RESOURCE}", elsewhere.addr());
    let origin = Stub::start(move |_| {
        Reply::Raw(
            format!("HTTP/1.1 302 Found\r\nlocation: {target}?token=abc\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .into_bytes(),
        )
    });
    let world = empty_world();
    let run = world.run(&["-vv", "plan", "--base-url", &origin.base_url()]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("not followed"), "{run}");
    assert!(run.stderr.contains("?token=***"), "Location is masked:\n{run}");
    assert!(elsewhere.requests().is_empty(), "the other origin was contacted");
    let first = &origin.requests()[0];
    assert_eq!(first.header("x-inveterate-api-key"), Some(KEY));
    assert_eq!(origin.requests().len(), 1, "a refused redirect is not retried");
}

#[test]
fn a_method_keeping_redirect_within_the_origin_is_followed() {
    let stub = Stub::start(|request| {
        match request.path() {
        RESOURCE => Reply::Raw(
            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /v2.1/admin/webhook-subscriptions\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_vec(),
        ),
        _ => json("200 OK", EMPTY_LIST),
    }
    });
    let run = empty_world().run(&["plan", "--base-url", &stub.base_url()]);
    assert_eq!(run.code, 0, "{run}");
    let paths: Vec<String> = stub.requests().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(paths, [RESOURCE, "/v2.1/admin/webhook-subscriptions"]);
}

#[test]
fn a_redirect_that_would_turn_a_write_into_a_get_is_not_followed() {
    // reqwest follows a 301/302/303 after POST with a GET: the write would
    // look done without happening.
    let stub = Stub::start(|request| {
        match (request.method(), request.path()) {
        ("GET", RESOURCE) => json("200 OK", EMPTY_LIST),
        (_, RESOURCE) => Reply::Raw(
            b"HTTP/1.1 301 Moved Permanently\r\nlocation: /v2.1/admin/webhook-subscriptions\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_vec(),
        ),
        _ => json("200 OK", EMPTY_LIST),
    }
    });
    let world = empty_world();
    world.write(
        "webhooks.yaml",
        "version: 1\nsubscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
    );
    let run = world.run(&[
        "apply",
        "--auto-approve",
        "--wait",
        "0",
        "--base-url",
        &stub.base_url(),
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("not followed"), "{run}");
    let followed = stub.requests().iter().any(|r| r.path() != RESOURCE);
    assert!(!followed, "the redirect was followed");
}

#[test]
fn plain_http_is_refused_for_every_non_loopback_host_before_any_request() {
    let world = empty_world();
    for base in [
        "http://public.inveterateapi.com/v2.0",
        "http://localhost.attacker.example/v2.0",
        "http://127.0.0.1.nip.io/v2.0",
        "http://10.0.0.1/v2.0",
        "HTTP://API.EXAMPLE.COM/v2.0",
    ] {
        let run = world.run(&["plan", "--base-url", base]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("clear text"), "{base}:\n{run}");
    }
    for base in [
        "ftp://api.example.com/v2.0",
        "file:///etc/passwd",
        "javascript:alert(1)",
    ] {
        let run = world.run(&["plan", "--base-url", base]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("must be an https:// URL"), "{base}:\n{run}");
    }
}

#[test]
fn the_key_is_never_a_flag() {
    let world = empty_world();
    for command in ["plan", "apply", "drift", "export"] {
        let run = world.run(&[command, "--api-key", "flag-key-0000"]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains("takes no `--api-key`"), "{run}");
        assert!(run.stderr.contains("environment only"), "{run}");
        assert!(!run.stderr.contains("flag-key-0000"), "{run}");
    }
}

#[test]
fn a_key_the_server_echoes_back_is_never_printed() {
    // Servers do echo keys ("key … is invalid"); `run` fails the test if
    // the key reaches stdout or stderr, `-vv` bodies included.
    let stub = Stub::start(|request| match request.method() {
        "GET" if request.path().contains("/html/") => {
            response("200 OK", "text/html", format!("<p>{KEY}</p>"))
        }
        "GET" => json(
            "400 Bad Request",
            format!(r#"{{"message":"invalid API key {KEY}","data":{{"key":"{KEY}"}}}}"#),
        ),
        _ => json("500 Internal Server Error", "{}"),
    });
    let world = empty_world();
    let run = world.run(&["-vv", "plan", "--base-url", &stub.base_url()]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("invalid API key ***"), "{run}");
    let html_base = format!("{}/html", stub.base_url());
    let run = world.run(&["-vv", "plan", "--base-url", &html_base]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("not JSON"), "{run}");
}

#[test]
fn http_proxies_never_carry_the_key_to_the_loopback_sandbox() {
    // `http://` is allowed only on loopback; through a proxy the key would
    // travel in clear text to another machine.
    // Its tunnels would lead to a port that refuses them: none is asked for.
    let refusing = crate::netkit::Refusing::new();
    let proxy = crate::netkit::Proxy::start(std::net::SocketAddr::from(([127, 0, 0, 1], refusing.port())));
    let world = empty_world();
    let run = world.run_env(
        &["plan"],
        &[
            ("HTTP_PROXY", &proxy.url()),
            ("http_proxy", &proxy.url()),
            ("ALL_PROXY", &proxy.url()),
        ],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
}

#[test]
fn a_manifest_cannot_smuggle_the_key_into_a_subscription() {
    // Otherwise `plan` would print it for the pull request's author, and
    // `apply` would hand it to an endpoint of their choosing.
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:
  - {name: a, topic: customer.updated, callbackUrl: \"https://attacker.example/${INVETERATE_API_KEY}\"}
  - {name: \"b-${COPY}\", topic: customer.updated, callbackUrl: \"https://h.example/\"}
",
        ),
    );
    let run = world.run_env(&["plan"], &[("COPY", KEY)]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(
            "webhooks.yaml:3: `callbackUrl` uses `${INVETERATE_API_KEY}`, the variable holding this merchant's API key"
        ),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("webhooks.yaml:4: `name` would contain this merchant's API key"),
        "{run}"
    );
    assert_eq!(world.sandbox.counters().stats().total, 0);
    let run = world.run(&["validate"]);
    assert_eq!(run.code, 1, "offline too:\n{run}");
}

#[test]
fn a_live_subscription_holding_the_key_is_redacted_everywhere() {
    // Someone put the key into a live callback URL by hand: every report
    // (and export) shows *** instead; `run` fails on any leak.
    let world = empty_world();
    world.seed(&[(
        "customer.updated",
        "old",
        &format!("https://h.example/{KEY}/hook"),
    )]);
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--format", "markdown"],
        &["drift"],
        &["export"],
        &["-vv", "apply", "--auto-approve", "--force"],
    ] {
        let run = world.run(args);
        // Export leaves the subscription out, naming it (exit 1).
        let export = args == ["export"];
        assert!(
            run.code == 0 || run.code == 2 || (export && run.code == 1),
            "{run}"
        );
        // Reports mask it; export names the variable a manifest would need.
        let shown = if export {
            "`callbackUrl` uses `${INVETERATE_API_KEY}`"
        } else {
            "https://h.example/***/hook"
        };
        assert!(
            run.stdout.contains(shown) || run.stderr.contains(shown),
            "{args:?}: {run}"
        );
    }
}

#[test]
fn saved_plans_never_hold_the_key() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest("subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/?t=tok\"}\n"),
    );
    let run = world.run(&["-vv", "plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{run}");
    let saved = std::fs::read_to_string(world.path("plan.json")).unwrap();
    assert!(
        saved.contains("INVETERATE_API_KEY"),
        "names the variable:\n{saved}"
    );
    assert!(!saved.contains(KEY), "{saved}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.path("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let run = world.run(&["-vv", "apply", "--plan", "plan.json", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
}

#[test]
fn debug_output_of_a_client_hides_the_key() {
    let base = BaseUrl::parse("https://public.inveterateapi.com/v2.0", None)
        .unwrap()
        .url;
    let client = Http::new(&base, ClientOptions::default())
        .unwrap()
        .client(&ApiKey::new(KEY.into()))
        .unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains("Client"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
}

/// The panic hook scrubs keys: a child copy of this test binary installs
/// the real hook, reads a key and panics with it in the message (as a bug
/// formatting a key would); its stderr must not contain the key.
#[test]
fn a_panic_never_shows_the_key() {
    if std::env::var_os("INVHOOKS_PANIC_CHILD").is_some() {
        invhooks::commands::install_panic_hook();
        let key = ApiKey::new(KEY.into());
        let leaked = KEY.to_owned();
        panic!("simulated bug with {key:?} and {leaked}");
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "security::a_panic_never_shows_the_key",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("INVHOOKS_PANIC_CHILD", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("error: invhooks crashed at tests/it/security.rs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("simulated bug with ApiKey(***) and ***"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(KEY));
}

// ---- what a broken or lying server can do -----------------------------

#[test]
fn a_body_over_the_size_cap_is_refused_unread() {
    let declared = 64 * 1024 * 1024 + 1;
    let stub = Stub::start(move |_| Reply::Stream {
        head: format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
        ),
        chunk: vec![b' '; 64 * 1024],
        count: 16,
    });
    let run = empty_world().run(&["plan", "--base-url", &stub.base_url()]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("the response is larger than 67108864 bytes; refusing to read it"),
        "{run}"
    );
}

fn client(stub: &Stub, options: ClientOptions) -> Client {
    let base = BaseUrl::parse(&stub.base_url(), None).unwrap().url;
    let options = ClientOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            max_throttled_attempts: 1,
            ..RetryPolicy::default()
        },
        ..options
    };
    Http::new(&base, options)
        .unwrap()
        .client(&ApiKey::new(KEY.into()))
        .unwrap()
}

#[tokio::test]
async fn the_size_cap_holds_for_bodies_of_unknown_length() {
    // No content-length: the cap is enforced while reading.
    let stub = Stub::start(|request| {
        let size = if request.path().contains("exact") {
            1024
        } else {
            1025
        };
        let mut body = br#"{"message":"ok","data":[]}"#.to_vec();
        body.resize(size, b' ');
        Reply::Raw([b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".as_slice(), &body].concat())
    });
    let options = ClientOptions {
        max_body: 1024,
        ..ClientOptions::default()
    };
    let err = client(&stub, options.clone()).list().await.unwrap_err();
    assert!(matches!(err.failure, Failure::TooLarge(1024)), "{err}");
    let base = BaseUrl::parse(&format!("{}/exact", stub.base_url()), None)
        .unwrap()
        .url;
    let exact = Http::new(&base, options)
        .unwrap()
        .client(&ApiKey::new(KEY.into()))
        .unwrap();
    assert!(exact.list().await.unwrap().is_empty());
}

#[test]
fn proxy_pages_and_broken_json_are_reported_clearly() {
    let stub = Stub::start(|request| {
        match request.path() {
        p if p.starts_with("/portal") => response(
            "200 OK",
            "text/html",
            "<!DOCTYPE html>\n<html><title>Sign in to the Wi-Fi</title></html>",
        ),
        p if p.starts_with("/truncated") => json("200 OK", r#"{"message":"ok","data":[{"id":"wh_1","top"#),
        p if p.starts_with("/latin1") => json(
            "200 OK",
            b"{\"message\":\"ok\",\"data\":[{\"id\":\"1\",\"topic\":\"customer.updated\",\"name\":\"caf\xe9\",\"callbackUrl\":\"https://x\"}]}",
        ),
        p if p.starts_with("/deep") => {
            let depth = 100_000;
            let body = format!(r#"{{"message":"ok","data":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
            json("200 OK", body)
        }
        _ => response("403 Forbidden", "text/html", "<html><body>Blocked by the firewall</body></html>"),
    }
    });
    let world = empty_world();
    let root = format!("http://{}", stub.addr());
    let cases = [
        (
            "portal",
            "the response is not JSON",
            "it starts with \"<!DOCTYPE html> <html>",
        ),
        (
            "truncated",
            "the response is not JSON (EOF while parsing",
            "it starts with",
        ),
        (
            "latin1",
            "the response is not JSON (invalid unicode code point",
            "it starts with",
        ),
        (
            "deep",
            "the response is not JSON (recursion limit exceeded",
            "it starts with",
        ),
        (
            "waf",
            "failed: 403 Forbidden",
            "could not read live subscriptions",
        ),
    ];
    for (path, first, second) in cases {
        let base = format!("{root}/{path}/v2.0");
        // -vv also parses the body (to mask it): no panic there either.
        let run = world.run(&["-vv", "plan", "--base-url", &base, "--timeout", "5"]);
        assert_eq!(run.code, 1, "{path}: {run}");
        assert!(run.stderr.contains(first), "{path}: {run}");
        assert!(run.stderr.contains(second), "{path}: {run}");
        assert!(!run.stderr.contains("panicked"), "{path}: {run}");
    }
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_an_error_not_a_short_list() {
    let stub = Stub::start(|_| {
        Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"message\":\"ok\",\"data\":[]}".to_vec())
    });
    let err = client(&stub, ClientOptions::default()).list().await.unwrap_err();
    assert!(matches!(err.failure, Failure::Dropped(_)), "{err}");
}

#[tokio::test]
async fn a_body_that_stalls_halfway_times_out() {
    // Headers arrive, then a few bytes, then nothing: the timeout covers
    // the whole response, not only the headers.
    let stub = Stub::start(|_| {
        Reply::Stall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"message\":".to_vec())
    });
    let options = ClientOptions {
        timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    };
    let started = Instant::now();
    let err = client(&stub, options).list().await.unwrap_err();
    assert!(matches!(err.failure, Failure::Timeout(1)), "{err}");
    // A bound on termination (no hang), not a performance claim: generous
    // so a loaded CI machine cannot fail it.
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_server_that_never_answers_ends_within_timeout_times_attempts() {
    let stub = Stub::start(|_| Reply::Hang);
    let started = Instant::now();
    let run = empty_world().run(&["plan", "--base-url", &stub.base_url(), "--timeout", "1"]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("no response within 1 s"), "{run}");
    // 5 attempts of 1 s, plus at most 0.2 + 0.4 + 0.8 + 1.6 s of backoff,
    // plus process start-up.
    let attempts = stub.requests().len();
    assert!((1..=5).contains(&attempts), "{attempts} attempts");
    // A bound on termination, generous for a loaded CI machine; the
    // attempt count above is the exact part.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}
