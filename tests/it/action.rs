//! The GitHub Action (`action.yml`): its install and run steps are the
//! scripts `action/install.sh` and `action/run.sh`, run here as the runner
//! would (bash, `$GITHUB_OUTPUT`, `$GITHUB_PATH`, `$GITHUB_STEP_SUMMARY`),
//! with the binary under test given as the `binary` input, against the
//! sandbox.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `KEY=VALUE` lines of a `$GITHUB_OUTPUT` file.
fn outputs(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A runner's files in the world's directory, and a script command with
/// only what a runner sets.
struct Runner<'a> {
    world: &'a World,
    output: PathBuf,
    path_file: PathBuf,
    summary: PathBuf,
    temp: PathBuf,
}

impl<'a> Runner<'a> {
    fn new(world: &'a World) -> Self {
        let temp = world.path("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let runner = Runner {
            world,
            output: world.path("github-output"),
            path_file: world.path("github-path"),
            summary: world.path("step-summary.md"),
            temp,
        };
        std::fs::write(&runner.summary, "# earlier step\n").unwrap();
        runner
    }

    fn script(&self, name: &str, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(repo().join("action").join(name))
            .env_clear()
            .current_dir(self.world.dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.world.dir.path())
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_PATH", &self.path_file)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("RUNNER_TEMP", &self.temp)
            .env("RUNNER_TOOL_CACHE", self.world.path("tool-cache"))
            .env("INVHOOKS_ACTION_PATH", repo());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }
}

fn run_script(cmd: &mut Command) -> Run {
    Run::checked(cmd.output().unwrap())
}

#[test]
fn action_yml_runs_the_tested_scripts() {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str::<serde_json::Value>(&text).unwrap();
    assert_eq!(doc["runs"]["using"], "composite");
    let runs: Vec<&str> = doc["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert_eq!(
        runs,
        [
            "bash \"$INVHOOKS_ACTION_PATH/action/install.sh\" resolve",
            "bash \"$INVHOOKS_ACTION_PATH/action/install.sh\" install",
            "bash \"$INVHOOKS_ACTION_PATH/action/run.sh\"",
        ]
    );
    for output in ["exitcode", "has-changes", "markdown"] {
        assert!(doc["outputs"][output]["value"].is_string(), "output {output}");
    }
    for input in ["command", "args", "version", "binary"] {
        assert!(doc["inputs"][input]["description"].is_string(), "input {input}");
    }
}

#[test]
fn the_action_installs_the_given_binary_and_passes_the_exit_code_through() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/\"}\n",
        ),
    );
    let runner = Runner::new(&world);
    let binary = assert_cmd::cargo::cargo_bin("invhooks");

    // Resolve: the version of this checkout, and a cache key per version,
    // target and runner image.
    let resolve = run_script(
        runner
            .script("install.sh", &[])
            .args(["resolve"])
            .env("ImageOS", "ubuntu24")
            .env("ImageVersion", "20261124.1"),
    );
    assert_eq!(resolve.code, 0, "{resolve}");
    let resolved = outputs(&runner.output);
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(resolved["version"], version);
    assert!(
        resolved["cache-key"].starts_with(&format!("invhooks-{version}-")),
        "{resolved:?}"
    );
    assert!(
        resolved["cache-key"].ends_with("-ubuntu24-20261124.1"),
        "{resolved:?}"
    );
    assert!(
        resolved["cache-key"].contains(&resolved["target"]),
        "{resolved:?}"
    );

    // Install with the `binary` input: nothing downloaded or built, its
    // directory goes on PATH.
    let install = run_script(
        runner
            .script("install.sh", &[("INPUT_BINARY", binary.to_str().unwrap())])
            .arg("install"),
    );
    assert_eq!(install.code, 0, "{install}");
    assert!(
        install
            .stderr
            .contains(&format!("invhooks {}", env!("CARGO_PKG_VERSION"))),
        "{install}"
    );
    let path_dir = std::fs::read_to_string(&runner.path_file).unwrap();
    assert_eq!(Path::new(path_dir.trim()), binary.parent().unwrap());

    // Run, with the installed directory on PATH as the runner would put it.
    let path = format!("{}:{}", path_dir.trim(), std::env::var("PATH").unwrap());
    let base_url = world.sandbox.base_url();
    let env = [
        ("PATH", path.as_str()),
        ("INPUT_COMMAND", "plan"),
        ("INPUT_ARGS", "-f webhooks.yaml\n--detailed-exitcode"),
        ("INVETERATE_API_KEY", KEY),
        ("INVETERATE_BASE_URL", base_url.as_str()),
    ];
    std::fs::write(&runner.output, "").unwrap();
    let plan = run_script(&mut runner.script("run.sh", &env));
    assert_eq!(plan.code, 2, "exit code passed through:\n{plan}");
    assert!(plan.stdout.contains("Plan: 1 to create"), "{plan}");
    let out = outputs(&runner.output);
    assert_eq!(out["exitcode"], "2");
    assert_eq!(out["has-changes"], "true");
    let markdown = std::fs::read_to_string(&out["markdown"]).unwrap();
    assert!(markdown.starts_with("<!-- invhooks plan -->"), "{markdown}");
    assert!(Path::new(&out["markdown"]).starts_with(&runner.temp));
    let summary = std::fs::read_to_string(&runner.summary).unwrap();
    assert_eq!(
        summary,
        format!("# earlier step\n{markdown}"),
        "appended to the real summary"
    );

    // apply, then a plan with no changes: 0 and `false`.
    let mut apply_env = env;
    apply_env[1] = ("INPUT_COMMAND", "apply");
    apply_env[2] = ("INPUT_ARGS", "--auto-approve");
    let apply = run_script(&mut runner.script("run.sh", &apply_env));
    assert_eq!(apply.code, 0, "{apply}");
    std::fs::write(&runner.output, "").unwrap();
    let again = run_script(&mut runner.script("run.sh", &env));
    assert_eq!(again.code, 0, "{again}");
    let out = outputs(&runner.output);
    assert_eq!(
        (out["exitcode"].as_str(), out["has-changes"].as_str()),
        ("0", "false")
    );

    // `stdout`: the report to a file, not the log (drift.yml reads it with jq).
    let mut drift = env;
    drift[1] = ("INPUT_COMMAND", "drift");
    drift[2] = ("INPUT_ARGS", "-f webhooks.yaml --format json");
    let json = world.path("drift.json");
    let ran = run_script(runner.script("run.sh", &drift).env("INPUT_STDOUT", &json));
    assert_eq!(ran.code, 0, "{ran}");
    assert!(ran.stdout.is_empty(), "{ran}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["merchants"].is_array(), "{report}");

    // An error is 1, and still reported.
    std::fs::write(&runner.output, "").unwrap();
    let mut bad = env;
    bad[2] = ("INPUT_ARGS", "-f missing.yaml");
    let failed = run_script(&mut runner.script("run.sh", &bad));
    assert_eq!(failed.code, 1, "{failed}");
    assert!(failed.stderr.contains("cannot read `missing.yaml`"), "{failed}");
    assert_eq!(outputs(&runner.output)["exitcode"], "1");
}

#[test]
fn the_install_step_refuses_a_binary_that_is_not_there() {
    let world = World::new();
    let runner = Runner::new(&world);
    let run = run_script(
        runner
            .script("install.sh", &[("INPUT_BINARY", "no/such/invhooks")])
            .arg("install"),
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("is not an executable file"), "{run}");
    assert_eq!(std::fs::read_to_string(&runner.path_file).unwrap_or_default(), "");
}

#[test]
fn without_a_release_another_version_is_not_built_from_this_source() {
    let world = World::new();
    let runner = Runner::new(&world);
    // No gh token: no download; the version asked for is not this source's.
    let run = run_script(
        runner
            .script("install.sh", &[("INPUT_VERSION", "v99.0.0")])
            .arg("install"),
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("no release binary of invhooks v99.0.0"),
        "{run}"
    );
    assert!(run.stderr.contains("this action's source is v"), "{run}");
}

#[test]
fn every_runner_maps_to_a_target_the_release_builds_and_binstall_knows() {
    let release = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("[package.metadata.binstall]"), "binstall metadata");
    // The names binstall, the GitLab example and install.sh download are
    // the ones release.yml packages.
    assert!(
        cargo.contains(
            r#"pkg-url = "{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }""#
        ),
        "{cargo}"
    );
    assert!(
        release.contains(r#"asset="invhooks-$TARGET.tar.gz""#)
            && release.contains(r#"asset="invhooks-$TARGET.zip""#)
    );
    assert!(release.contains(r#"> "$asset.sha256""#));
    let gitlab = std::fs::read_to_string(repo().join("examples/gitlab-ci.yml")).unwrap();
    assert!(
        gitlab.contains("asset=invhooks-x86_64-unknown-linux-musl.tar.gz"),
        "{gitlab}"
    );
    let world = World::new();
    let runner = Runner::new(&world);
    for (os, arch, expected) in [
        ("Linux", "X64", "x86_64-unknown-linux-musl"),
        ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        ("macOS", "X64", "x86_64-apple-darwin"),
        ("macOS", "ARM64", "aarch64-apple-darwin"),
        ("Windows", "X64", "x86_64-pc-windows-msvc"),
    ] {
        let run = run_script(
            runner
                .script("install.sh", &[("RUNNER_OS", os), ("RUNNER_ARCH", arch)])
                .arg("target"),
        );
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(run.stdout.trim(), expected, "{os}/{arch}");
        assert!(
            release.contains(&format!("target: {expected}\n")),
            "release.yml does not build {expected}"
        );
    }
}

/// A directory with stand-ins for `cargo` or `gh` that log their arguments
/// to `calls.log`, first on PATH.
fn stubs(world: &World, scripts: &[(&str, String)]) -> String {
    let dir = world.path("stubs");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in scripts {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/usr/bin/env bash\necho \"{name} $*\" >> \"{}\"\n{body}\n",
                world.path("calls.log").display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// A small executable named `invhooks` that answers `--version` as the
/// binary does: what install.sh moves, checks and runs, without copying,
/// hashing and packing the 150 MB debug binary at every step.
#[cfg(unix)]
fn stand_in(world: &World) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = world.path("stand-in/invhooks");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let script = format!(
        "#!/bin/sh\necho \"invhooks {} (stand-in)\"\n",
        env!("CARGO_PKG_VERSION")
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn without_a_release_the_action_builds_its_own_source_once_then_uses_the_cache() {
    let world = World::new();
    let runner = Runner::new(&world);
    let binary = stand_in(&world);
    // `cargo install --root ROOT` puts the binary in ROOT/bin.
    let cargo = format!(
        "root=\"${{@: -1}}\"; mkdir -p \"$root/bin\" && cp \"{}\" \"$root/bin/invhooks\"",
        binary.display()
    );
    let path = stubs(&world, &[("cargo", cargo), ("gh", "exit 1".to_owned())]);
    let env = [
        ("PATH", path.as_str()),
        ("GH_TOKEN", "gh-token"),
        ("INVHOOKS_REPOSITORY", "YOUR_ORG/invhooks"),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
    ];
    let built = run_script(runner.script("install.sh", &env).arg("install"));
    assert_eq!(built.code, 0, "{built}");
    assert!(
        built
            .stderr
            .contains("building from source (cargo install --locked)"),
        "{built}"
    );
    let calls = std::fs::read_to_string(world.path("calls.log")).unwrap();
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    // Built from this source: its directory (and cache key) names the
    // version, the target and a digest of the source.
    let on_path = std::fs::read_to_string(&runner.path_file).unwrap();
    let bin = Path::new(on_path.trim());
    let root = bin.parent().unwrap();
    assert_eq!(root.parent().unwrap(), world.path("tool-cache").join("invhooks"));
    let id = root.file_name().unwrap().to_str().unwrap();
    let digest = id
        .strip_prefix(&format!("{version}-x86_64-unknown-linux-musl-src"))
        .unwrap_or_else(|| panic!("{id}"));
    assert!(
        digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(
        calls.starts_with(&format!("gh release download {version} --repo YOUR_ORG/invhooks")),
        "{calls}"
    );
    assert!(
        calls.contains(&format!(
            "cargo install --locked --path {} --root {}",
            repo().display(),
            root.display()
        )),
        "{calls}"
    );
    assert_eq!(bin, root.join("bin"));

    // The next job restores the cache: nothing downloaded or built.
    std::fs::remove_file(world.path("calls.log")).unwrap();
    let cached = run_script(runner.script("install.sh", &env).arg("install"));
    assert_eq!(cached.code, 0, "{cached}");
    assert!(cached.stderr.contains("using the cached"), "{cached}");
    assert!(!world.path("calls.log").exists(), "no gh, no cargo");

    // A restored binary that is not the one installed (its sha256 differs
    // from the one recorded) is not run: it is installed again.
    let installed = bin.join("invhooks");
    let mut bytes = std::fs::read(&installed).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&installed, bytes).unwrap();
    let again = run_script(runner.script("install.sh", &env).arg("install"));
    assert_eq!(again.code, 0, "{again}");
    assert!(
        again
            .stderr
            .contains("does not match the sha256 recorded at install; installing again"),
        "{again}"
    );
    let calls = std::fs::read_to_string(world.path("calls.log")).unwrap();
    assert!(calls.contains("cargo install --locked"), "{calls}");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&binary).unwrap()
    );
}

/// The cache key of a build from the action's own source follows the
/// source: another commit of the same version gets another key; a release
/// version asked for by the `version` input does not depend on it.
#[test]
fn the_cache_key_follows_the_actions_source() {
    let world = World::new();
    let runner = Runner::new(&world);
    let action = world.path("action-copy");
    std::fs::create_dir_all(action.join("src")).unwrap();
    std::fs::write(action.join("Cargo.toml"), "[package]\nversion = \"1.2.3\"\n").unwrap();
    let key = |env: &[(&str, &str)]| {
        std::fs::write(&runner.output, "").unwrap();
        let run = run_script(
            runner
                .script("install.sh", env)
                .arg("resolve")
                .env("INVHOOKS_ACTION_PATH", &action),
        );
        assert_eq!(run.code, 0, "{run}");
        outputs(&runner.output)["cache-key"].clone()
    };
    std::fs::write(action.join("src/main.rs"), "fn main() {}\n").unwrap();
    let first = key(&[]);
    assert!(first.starts_with("invhooks-v1.2.3-"), "{first}");
    assert_eq!(key(&[]), first, "stable for the same source");
    std::fs::write(action.join("src/main.rs"), "fn main() { println!(); }\n").unwrap();
    let second = key(&[]);
    assert_ne!(second, first, "another commit, another key");
    let release = key(&[("INPUT_VERSION", "v1.0.0")]);
    assert!(!release.contains("-src"), "{release}");
}

#[cfg(unix)]
#[test]
fn a_release_binary_is_installed_only_when_its_sha256_matches() {
    let world = World::new();
    let binary = stand_in(&world);
    let asset = "invhooks-x86_64-unknown-linux-musl.tar.gz";
    let release = world.path("release");
    std::fs::create_dir_all(&release).unwrap();
    let packed = Command::new("tar")
        .arg("-czf")
        .arg(release.join(asset))
        .arg("-C")
        .arg(binary.parent().unwrap())
        .arg("invhooks")
        .status()
        .unwrap();
    assert!(packed.success());
    let digest = Command::new("sha256sum")
        .arg(release.join(asset))
        .output()
        .unwrap();
    let digest = String::from_utf8(digest.stdout).unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_owned();
    // `gh release download TAG --repo R --dir DIR ...`: copies the release.
    let gh = format!("cp \"{}\"/* \"$7\"/", release.display());
    let path = stubs(&world, &[("gh", gh), ("cargo", "exit 1".to_owned())]);
    let env = [
        ("PATH", path.as_str()),
        ("GH_TOKEN", "gh-token"),
        ("INVHOOKS_REPOSITORY", "YOUR_ORG/invhooks"),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
    ];

    std::fs::write(
        release.join(format!("{asset}.sha256")),
        format!("{}  {asset}\n", "0".repeat(64)),
    )
    .unwrap();
    let runner = Runner::new(&world);
    let tampered = run_script(runner.script("install.sh", &env).arg("install"));
    assert_eq!(tampered.code, 1, "{tampered}");
    assert!(tampered.stderr.contains("not installing it"), "{tampered}");
    assert_eq!(std::fs::read_to_string(&runner.path_file).unwrap_or_default(), "");

    std::fs::write(
        release.join(format!("{asset}.sha256")),
        format!("{digest}  {asset}\n"),
    )
    .unwrap();
    let installed = run_script(runner.script("install.sh", &env).arg("install"));
    assert_eq!(installed.code, 0, "{installed}");
    assert!(
        installed.stderr.contains(&format!("downloading {asset}")),
        "{installed}"
    );
    let calls = std::fs::read_to_string(world.path("calls.log")).unwrap();
    assert!(!calls.contains("cargo"), "nothing built:\n{calls}");
    let dir = std::fs::read_to_string(&runner.path_file).unwrap();
    let installed = Path::new(dir.trim()).join("invhooks");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&binary).unwrap()
    );
    let run = Command::new(installed).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("invhooks "));
}

/// Releases are signed for binstall with the key Cargo.toml names, attested,
/// and move the major tag the examples use (`@v1`).
#[test]
fn releases_are_signed_attested_and_move_the_major_tag() {
    let release = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str::<serde_json::Value>(&release).unwrap();
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("[package.metadata.binstall.signing]\nalgorithm = \"minisign\"\npubkey = "),
        "{cargo}"
    );
    let publish = &doc["jobs"]["publish"];
    assert_eq!(publish["permissions"]["attestations"], "write");
    assert_eq!(publish["permissions"]["id-token"], "write");
    let steps = strings_of(&publish["steps"]);
    for needle in [
        "actions/attest-build-provenance@",
        "minisign -S -s \"$key\" -m \"$asset\" -x \"$asset.sig\"",
        // Each signature is checked against Cargo.toml's pubkey before publishing.
        "minisign -V -P \"$pubkey\"",
        "major=\"${TAG%%.*}\"",
    ] {
        assert!(steps.contains(needle), "release.yml lacks {needle:?}");
    }
    let names: Vec<&str> = publish["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let at = |n: &str| names.iter().position(|x| x.starts_with(n)).unwrap();
    assert!(at("Sign") < at("Publish") && at("Attest") < at("Publish") && at("Publish") < at("Move"));
}
