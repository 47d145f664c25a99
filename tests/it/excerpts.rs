//! Error messages quote the start of a body the tool could not read; a key
//! in that body is masked before the quote is cut to length, so no piece
//! of a key that crosses the cut survives (SECURITY.md, "Where the key
//! goes"). Through the binary, with a key of the real keys' shape.

use crate::netkit::{response, Stub};
use crate::support::*;

/// A key shaped like Inveterate's (32 characters).
const LIVE_KEY: &str = "sk_live_7Qm2Xr9TbW4nLp0ZcV8sKd3F";

#[test]
fn a_key_crossing_the_excerpt_cut_never_shows() {
    assert_eq!(LIVE_KEY.len(), 32);
    let world = World::new();
    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    // The key starts at every offset from well before the 60-byte cut to
    // just after it.
    for pad in 0..64 {
        let body = format!("{}Invalid API key: {LIVE_KEY} (check Settings)", "x".repeat(pad));
        let stub = Stub::start(move |_| response("200 OK", "text/html", &body));
        let run = world.run_env(
            &["-vv", "plan", "--base-url", &stub.base_url()],
            &[("INVETERATE_API_KEY", LIVE_KEY)],
        );
        assert_eq!(run.code, 1, "{run}");
        assert!(
            run.stderr.contains("it starts with"),
            "the excerpt is shown:\n{run}"
        );
        let text = format!("{}{}", run.stdout, run.stderr);
        for piece in LIVE_KEY.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !text.contains(piece),
                "offset {pad}: `{piece}` of the key shows:\n{run}"
            );
        }
    }
}
