//! Mistakes people make in and around manifests (issue 21 "Mistakes
//! people make", issue 19's smaller findings), as the binary answers them:
//! a key where its variable's name goes, `apiKey:`, a policy file among
//! the manifests, a near miss of the file name, an empty directory, a
//! non-UTF-8 file, a `!!binary` value. One snapshot of every message.

use crate::support::*;

/// `validate ARGS` in `world`: the command line and what it printed.
fn shown(world: &World, args: &[&str]) -> String {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    let run = world.run(&all);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    format!("$ invhooks {}\n{}\n", all.join(" "), run.stderr)
}

#[test]
fn manifest_mistakes_get_a_located_message_that_says_what_to_do() {
    let world = World::new();
    let key = "sk_live_123abcDEF";
    let mut out = String::new();

    world.write("pasted.yaml", &manifest(&format!("apiKeyEnv: {key}\n")));
    out += &shown(&world, &["-f", "pasted.yaml"]);
    world.write("api-key.yaml", &manifest(&format!("apiKey: {key}\n")));
    out += &shown(&world, &["-f", "api-key.yaml"]);
    assert!(!out.contains(key), "a key is never echoed:\n{out}");

    world.write(
        "dir/webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    world.write(
        "dir/policy.yaml",
        "version: 1\nallowedCallbackHosts: [\"*.example\"]\n",
    );
    out += &shown(&world, &["-f", "dir"]);

    world.write("webhooks.yaml", &manifest("subscriptions: []\n"));
    out += &shown(&world, &["-f", "webhook.yaml"]);
    std::fs::create_dir(world.path("empty")).unwrap();
    out += &shown(&world, &["-f", "empty"]);

    std::fs::write(world.path("latin1.yaml"), b"version: 1\nmerchant: caf\xe9\n").unwrap();
    out += &shown(&world, &["-f", "latin1.yaml"]);
    world.write(
        "binary.yaml",
        &manifest("subscriptions:\n  - name: !!binary Y3JtLXN5bmM=\n    topic: customer.updated\n    callbackUrl: https://a.example/\n"),
    );
    out += &shown(&world, &["-f", "binary.yaml"]);
    snapshot!(world, out);
}
