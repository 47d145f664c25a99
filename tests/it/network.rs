//! Real-world networks: TLS verification that cannot be turned off, a
//! private CA added with `--ca-cert` or `SSL_CERT_FILE`, and
//! `HTTPS_PROXY` / `NO_PROXY` honoured. The sandbox sits behind a TLS
//! front with a certificate from a throwaway CA; the proxy tunnels every
//! `CONNECT` to that front. Everything stays on 127.0.0.1.

use crate::netkit::{Pki, Proxy, TlsFront};
use crate::support::*;

/// A sandbox behind HTTPS, a manifest, and the CA written to `ca.pem`.
struct Secure {
    world: World,
    front: TlsFront,
}

impl Secure {
    fn new(names: &[&str]) -> Secure {
        let world = World::new();
        world.write(
            "webhooks.yaml",
            &manifest("subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n"),
        );
        let pki = Pki::new(names);
        world.write("ca.pem", &pki.ca_pem);
        let front = TlsFront::start(&pki, world.sandbox.addr());
        Secure { world, front }
    }

    fn base(&self, host: &str) -> String {
        format!("https://{host}:{}/v2.0", self.front.port())
    }

    fn plan(&self, host: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let base = self.base(host);
        let mut args = vec!["plan", "--base-url", base.as_str()];
        args.extend_from_slice(extra);
        self.world.run_env(&args, env)
    }
}

#[test]
fn tls_is_verified_and_a_private_ca_is_trusted_only_when_given() {
    let s = Secure::new(&["localhost", "127.0.0.1"]);
    let untrusted = s.plan("localhost", &[], &[]);
    assert_eq!(untrusted.code, 1, "{untrusted}");
    assert!(
        untrusted
            .stderr
            .contains("the server's TLS certificate is not trusted"),
        "{untrusted}"
    );
    assert!(untrusted.stderr.contains("UnknownIssuer"), "{untrusted}");
    assert!(untrusted.stderr.contains("--ca-cert FILE"), "{untrusted}");
    assert_eq!(s.front.handshakes(), 0, "the client must refuse the handshake");
    assert_eq!(
        s.world.sandbox.counters().stats().total,
        0,
        "the key was never sent"
    );

    let ca = s.world.path("ca.pem");
    let ca = ca.to_str().unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let run = s.plan(host, &["--ca-cert", ca], &[]);
        assert_eq!(run.code, 0, "{run}");
        assert!(run.stdout.contains("+ customer.updated a"), "{run}");
    }
    let run = s.plan("localhost", &[], &[("SSL_CERT_FILE", ca)]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(s.world.sandbox.counters().stats().get, 3);
}

#[test]
fn a_certificate_for_another_name_is_refused_even_from_a_trusted_ca() {
    let s = Secure::new(&["localhost"]);
    let ca = s.world.path("ca.pem");
    let run = s.plan("127.0.0.1", &["--ca-cert", ca.to_str().unwrap()], &[]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("TLS certificate is not trusted"), "{run}");
    assert!(run.stderr.contains("not valid for name"), "{run}");
    assert_eq!(s.world.sandbox.counters().stats().total, 0);
}

#[test]
fn an_unusable_ca_file_is_a_clear_error() {
    let s = Secure::new(&["localhost"]);
    s.world.write("not-pem.txt", "hello\n");
    s.world.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    for (file, needle) in [
        ("missing.pem", "No such file"),
        ("not-pem.txt", "no PEM certificate in it"),
        (
            "garbage.pem",
            "certificate 1 in the file is not usable: invalid peer certificate: BadEncoding",
        ),
    ] {
        let path = s.world.path(file);
        let run = s.plan("localhost", &["--ca-cert", path.to_str().unwrap()], &[]);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains(needle), "{run}");
        assert!(run.stderr.contains("cannot use CA certificates from"), "{run}");
        assert_eq!(s.world.sandbox.counters().stats().total, 0, "{run}");
    }
    let run = s.world.run(&["validate", "--ca-cert", "missing.pem"]);
    assert_eq!(run.code, 0, "offline commands do not read the CA file:\n{run}");
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let s = Secure::new(&["localhost"]);
    let proxy = Proxy::start(([127, 0, 0, 1], s.front.port()).into());
    let ca = s.world.path("ca.pem");
    let ca = ca.to_str().unwrap();
    let via = proxy.url();

    let run = s.plan("localhost", &["--ca-cert", ca], &[("HTTPS_PROXY", &via)]);
    assert_eq!(run.code, 0, "{run}");
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let expected = format!("CONNECT localhost:{} HTTP/1.1", s.front.port());
    assert_eq!(seen[0].line, expected);
    assert!(
        !seen[0].head.contains(KEY),
        "the key travels inside the tunnel only"
    );
    assert_eq!(s.world.sandbox.counters().stats().get, 1);

    let run = s.plan("localhost", &["--ca-cert", ca], &[("https_proxy", &via)]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(proxy.requests().len(), 2, "lower-case https_proxy too");

    for no_proxy in ["localhost", "*", ".localhost,example.com"] {
        let run = s.plan(
            "localhost",
            &["--ca-cert", ca],
            &[("HTTPS_PROXY", &via), ("NO_PROXY", no_proxy)],
        );
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(
            proxy.requests().len(),
            2,
            "NO_PROXY={no_proxy} bypasses the proxy"
        );
    }
    assert_eq!(s.world.sandbox.counters().stats().get, 5);
}
