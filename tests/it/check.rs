//! `check`: every callback URL probed (DNS, TCP, TLS, HTTP) on loopback
//! receivers, offline of the Inveterate API; `--send-test-event` delivers
//! the documented shape; `plan --check-callbacks` warns, never blocks.

use crate::netkit::{response, Pki, Recorded, Refusing, Stub, TlsFront};
use crate::support::*;

/// A receiver that answers `HEAD` with `status` and accepts POSTs (202).
fn receiver(status: &'static str) -> Stub {
    Stub::start(move |r: &Recorded| match r.method() {
        "POST" => response("202 Accepted", "text/plain", ""),
        _ => response(status, "text/plain", ""),
    })
}

/// A world whose manifest declares `subs` (name, topic, url) for `acme`.
fn world_with(subs: &[(&str, &str, &str)]) -> World {
    let world = World::new();
    let mut body = String::from("merchant: acme\nsubscriptions:\n");
    for (name, topic, url) in subs {
        body.push_str(&format!(
            "  - {{name: {name}, topic: {topic}, callbackUrl: \"{url}\"}}\n"
        ));
    }
    world.write("webhooks.yaml", &manifest(&body));
    world
}

/// Replaces ports and latencies, so output can be snapshotted.
fn stable(text: &str, ports: &[u16]) -> String {
    let mut text = text.to_owned();
    for port in ports {
        text = text.replace(&format!(":{port}/"), ":PORT/");
    }
    latencies(&text)
}

/// `NN ms` → `N ms` and `"latency_ms": NN` → `"latency_ms": N`.
fn latencies(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let mut line = line.to_owned();
        if let Some(i) = line.find("\"latency_ms\": ") {
            let start = i + "\"latency_ms\": ".len();
            let end = start + line[start..].find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
            line.replace_range(start..end, "N");
        }
        while let Some(i) = line.find(" ms") {
            let start = line[..i]
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |j| j + 1);
            if start == i {
                break;
            }
            line.replace_range(start..i + 3, "N_ms");
        }
        out.push_str(&line.replace("N_ms", "N ms"));
    }
    out
}

fn no_api_request(world: &World) {
    assert_eq!(
        world.sandbox.counters().stats().total,
        0,
        "check never talks to the API"
    );
}

#[test]
fn a_closed_port_is_named_and_fails() {
    let closed = Refusing::new();
    let url = format!("http://127.0.0.1:{}/hook?token=s3cr3t", closed.port());
    let world = world_with(&[("crm", "customer.cancelled", &url)]);
    let run = world.run(&["check"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("TCP: connection refused"), "{run}");
    assert!(
        run.stdout
            .contains("used by acme customer.cancelled crm (webhooks.yaml:4)"),
        "{run}"
    );
    assert!(!run.stdout.contains("s3cr3t"), "masked:\n{run}");
    no_api_request(&world);
}

#[test]
fn a_receiver_that_answers_405_is_reachable_and_gets_no_post() {
    let stub = receiver("405 Method Not Allowed");
    let url = format!("http://{}/inveterate?sig=s3cr3t", stub.addr());
    let world = world_with(&[
        ("crm", "customer.cancelled", &url),
        ("crm", "customer.updated", &url),
    ]);
    let run = world.run(&["check"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("HTTP 405"), "{run}");
    assert!(
        run.stdout.ends_with("Check: 1 reachable, 0 unreachable.\n"),
        "{run}"
    );
    let seen = stub.requests();
    assert_eq!(seen.len(), 1, "one probe per distinct URL: {seen:?}");
    assert_eq!(seen[0].line, "HEAD /inveterate?sig=s3cr3t HTTP/1.1");
    assert!(!seen[0].head.contains(KEY) && seen[0].header("x-api-key").is_none());
    no_api_request(&world);
}

#[test]
fn a_404_or_a_5xx_is_unreachable() {
    for (status, shown) in [
        ("404 Not Found", "HTTP 404"),
        ("503 Service Unavailable", "HTTP 503"),
    ] {
        let stub = receiver(status);
        let world = world_with(&[("crm", "customer.cancelled", &format!("http://{}/x", stub.addr()))]);
        let run = world.run(&["check"]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stdout.contains(shown), "{run}");
    }
}

#[test]
fn an_untrusted_certificate_fails_at_tls_and_passes_with_its_ca() {
    let backend = receiver("405 Method Not Allowed");
    let pki = Pki::new(&["localhost"]);
    let front = TlsFront::start(&pki, backend.addr());
    let url = format!("https://localhost:{}/hook", front.port());
    let world = world_with(&[("crm", "customer.cancelled", &url)]);
    world.write("ca.pem", &pki.ca_pem);
    let untrusted = world.run(&["check"]);
    assert_eq!(untrusted.code, 1, "{untrusted}");
    assert!(
        untrusted
            .stdout
            .contains("TLS: certificate not trusted (unknown issuer"),
        "{untrusted}"
    );
    assert_eq!(front.handshakes(), 0);
    assert!(
        backend.requests().is_empty(),
        "nothing is sent over an unverified connection"
    );
    let trusted = world.run(&["check", "--ca-cert", "ca.pem"]);
    assert_eq!(trusted.code, 0, "{trusted}");
    assert!(trusted.stdout.contains("HTTP 405"), "{trusted}");
}

#[test]
fn a_name_that_does_not_resolve_fails_at_dns() {
    let world = world_with(&[("crm", "customer.cancelled", "https://hooks.nonexistent.invalid/x")]);
    let run = world.run(&["check", "--timeout", "5"]);
    assert_eq!(run.code, 1, "{run}");
    // `.invalid` never resolves; a resolver that cannot be reached fails
    // (or times out) at the same step.
    assert!(
        run.stdout
            .contains("FAIL https://hooks.nonexistent.invalid/x  DNS: "),
        "{run}"
    );
}

#[test]
fn send_test_event_posts_the_delivery_shape_once_per_subscription() {
    let stub = receiver("405 Method Not Allowed");
    let url = format!("http://{}/inveterate", stub.addr());
    let world = world_with(&[
        ("crm", "customer.cancelled", &url),
        ("crm", "customer.updated", &url),
    ]);
    let run = world.run(&["check", "--send-test-event"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("acme customer.cancelled crm: test event accepted (HTTP 202)"),
        "{run}"
    );
    let posts: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.method() == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "one event per subscription");
    let mut topics = Vec::new();
    for post in &posts {
        assert_eq!(post.path(), "/inveterate");
        assert_eq!(post.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        let payload = body["payload"].as_object().unwrap();
        for key in ["merchantId", "customerId", "createdAt", "updatedAt", "detail"] {
            assert!(payload.contains_key(key), "payload.{key}: {body}");
        }
        let meta = &body["metadata"];
        assert!(meta["id"].as_str().unwrap().starts_with("evt_test_"), "{body}");
        assert_eq!(meta["retryCount"], 0);
        assert_eq!(meta["shopDomain"], "acme.myshopify.com");
        assert_eq!(meta["version"], "2025-06");
        assert_eq!(meta["test"], true);
        assert!(meta["triggerredAt"].as_str().unwrap().ends_with('Z'), "{body}");
        topics.push(meta["topic"].as_str().unwrap().to_owned());
    }
    topics.sort();
    assert_eq!(topics, ["customer.cancelled", "customer.updated"]);
}

#[test]
fn a_rejected_test_event_fails_the_check() {
    let stub = Stub::start(|r: &Recorded| match r.method() {
        "POST" => response("400 Bad Request", "text/plain", ""),
        _ => response("405 Method Not Allowed", "text/plain", ""),
    });
    let world = world_with(&[("crm", "customer.cancelled", &format!("http://{}/x", stub.addr()))]);
    let run = world.run(&["check", "--send-test-event"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("test event rejected (HTTP 400)"), "{run}");
}

#[test]
fn json_and_markdown_reports() {
    // One receiver, so the URLs sort the same whatever the ports.
    let stub = Stub::start(|r: &Recorded| match r.path() {
        "/old" => response("410 Gone", "text/plain", ""),
        _ => response("401 Unauthorized", "text/plain", ""),
    });
    let refusing = Refusing::new();
    let closed = refusing.port();
    let world = world_with(&[
        (
            "crm",
            "customer.cancelled",
            &format!("http://{}/in?token=s3cr3t", stub.addr()),
        ),
        ("erp", "customer.updated", &format!("http://{}/old", stub.addr())),
        ("wms", "customer.ordered", &format!("http://localhost:{closed}/x")),
    ]);
    let ports = [stub.addr().port(), closed];
    let mut shown = String::new();
    for format in ["text", "json", "markdown"] {
        let run = world.run(&["check", "--format", format]);
        assert_eq!(run.code, 1, "{run}");
        assert!(!run.stdout.contains("s3cr3t"), "{run}");
        shown.push_str(&format!("--- {format}\n{}", stable(&run.stdout, &ports)));
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn merchant_globs_choose_what_is_probed() {
    let world = World::new();
    let refusing = Refusing::new();
    let closed = refusing.port();
    for (file, label, env) in [("a.yaml", "store-a", "KEY_A"), ("b.yaml", "other", "KEY_B")] {
        world.write(
            file,
            &manifest(&format!(
                "merchant: {label}\napiKeyEnv: {env}\nsubscriptions:\n  \
                 - {{name: crm, topic: customer.cancelled, callbackUrl: \"http://127.0.0.1:{closed}/x\"}}\n"
            )),
        );
    }
    let run = world.run(&["check", "-f", "a.yaml", "-f", "b.yaml", "--merchant", "store-*"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains("used by store-a") && !run.stdout.contains("used by other"),
        "{run}"
    );
    let none = world.run(&["check", "-f", "a.yaml", "-f", "b.yaml", "--merchant", "nope-*"]);
    assert_eq!(none.code, 1, "{none}");
    assert!(
        none.stderr.contains("no merchant matches `--merchant nope-*`"),
        "{none}"
    );
}

#[test]
fn plan_check_callbacks_warns_about_new_urls_and_never_blocks() {
    let unchanged = receiver("405 Method Not Allowed");
    let kept = format!("http://{}/kept", unchanged.addr());
    let closed = Refusing::new();
    let broken = format!("http://127.0.0.1:{}/new", closed.port());
    let world = world_with(&[
        ("crm", "customer.cancelled", &broken),
        ("erp", "customer.updated", &kept),
    ]);
    world.seed(&[("customer.updated", "erp", &kept)]);
    let run = world.run(&[
        "plan",
        "--check-callbacks",
        "--detailed-exitcode",
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 2, "the exit code is the plan's:\n{run}");
    assert!(
        run.stderr
            .contains("(acme customer.cancelled crm) did not answer: TCP: connection refused"),
        "{run}"
    );
    assert!(run.stdout.contains("### Callback check"), "{run}");
    assert!(run.stdout.contains("TCP: connection refused"), "{run}");
    assert!(unchanged.requests().is_empty(), "an unchanged URL is not probed");
    assert_eq!(
        world.sandbox.counters().stats().total,
        1,
        "the plan's one GET, nothing else"
    );

    let quiet = world.run(&["plan"]);
    assert!(
        !quiet.stderr.contains("did not answer"),
        "probes only on request:\n{quiet}"
    );
}
