//! The harness: a sandbox on 127.0.0.1:0, a temp directory for manifests,
//! and the binary run with a clean environment.

use std::fmt;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use invhooks::model::LiveSubscription;
use invhooks::sandbox::{Faults, Ids, Sandbox, SandboxConfig};

/// The key of the first merchant (`INVETERATE_API_KEY` in every run).
pub const KEY: &str = "test-key-a-5ecr3t";
/// The key of a second merchant.
pub const KEY_B: &str = "test-key-b-5ecr3t";

/// A sandbox, serving on a runtime of its own (tests run the binary
/// synchronously), and a working directory.
pub struct World {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
}

/// What a run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl World {
    pub fn new() -> Self {
        Self::with_faults(Faults::default())
    }

    /// A world whose sandbox injects `faults`, with sequential ids
    /// (`wh_000001`, …) that snapshots can show.
    pub fn with_faults(faults: Faults) -> Self {
        Self::with_ids(faults, Ids::Sequential)
    }

    /// A world whose sandbox injects `faults` and makes ids as `ids` says
    /// (random ones in no order: chaos and adversarial tests).
    pub fn with_ids(faults: Faults, ids: Ids) -> Self {
        let config = SandboxConfig {
            api_keys: vec![KEY.into(), KEY_B.into()],
            faults,
            ids,
            ..SandboxConfig::default()
        };
        Self::serving(config)
    }

    /// A world whose sandbox is started with `config`.
    pub fn serving(config: SandboxConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let sandbox = runtime.block_on(Sandbox::start(listen, config)).unwrap();
        Self {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            runtime,
        }
    }

    /// Writes a file in the working directory.
    pub fn write(&self, name: &str, text: &str) -> &Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Seeds live subscriptions of the first merchant.
    pub fn seed(&self, subs: &[(&str, &str, &str)]) -> Vec<LiveSubscription> {
        self.sandbox.seed(KEY, subs)
    }

    /// Live subscriptions of the first merchant as (topic, name, url), sorted.
    pub fn live(&self) -> Vec<(String, String, String)> {
        live_of(&self.sandbox, KEY)
    }

    /// The command, with only the variables a test sets.
    pub fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("invhooks").unwrap();
        cmd.env_clear()
            .current_dir(self.dir.path())
            .env("INVETERATE_API_KEY", KEY)
            .env("INVETERATE_BASE_URL", self.sandbox.base_url())
            .args(args);
        cmd
    }

    /// Runs the binary and captures everything.
    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    /// Runs with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd)
    }
}

pub fn live_of(sandbox: &Sandbox, key: &str) -> Vec<(String, String, String)> {
    let mut live: Vec<_> = sandbox
        .subscriptions(key)
        .into_iter()
        .map(|s| (s.topic, s.name, s.callback_url))
        .collect();
    live.sort();
    live
}

/// Runs a prepared command; output is checked to never contain a key.
pub fn run(cmd: &mut assert_cmd::Command) -> Run {
    Run::checked(cmd.output().unwrap())
}

impl Run {
    /// What a finished process printed; fails the test if any test key
    /// is in it.
    pub fn checked(output: Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for key in [KEY, KEY_B] {
            assert!(
                !run.stdout.contains(key) && !run.stderr.contains(key),
                "API key leaked:\n{run}"
            );
        }
        run
    }
}

impl World {
    /// insta filters (regex, replacement) for what differs between runs:
    /// a loopback port (not `:0`, which asks for a free one), the working directory, the version.
    pub fn filters(&self) -> Vec<(String, String)> {
        vec![
            (
                r"\b(127\.0\.0\.1|localhost):[1-9]\d{0,4}\b".to_owned(),
                "$1:PORT".to_owned(),
            ),
            (
                literal(&self.dir.path().display().to_string()),
                "[TEMP]".to_owned(),
            ),
            (literal(invhooks::VERSION), "VERSION".to_owned()),
            // A saved plan's random salt, and so its key digests.
            (
                r#""key_salt": "[0-9a-f]{32}""#.to_owned(),
                r#""key_salt": "[salt]""#.to_owned(),
            ),
            (
                r#""key_digest": "sha256:[0-9a-f]{64}""#.to_owned(),
                r#""key_digest": "[digest]""#.to_owned(),
            ),
        ]
    }
}

/// `text` as a regex that matches exactly it.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `insta::assert_snapshot!` under [`World::filters`]:
/// `snapshot!(world, run.to_string())`, or with a name first.
macro_rules! snapshot {
    ($world:expr, $($snapshot:tt)+) => {{
        let filters = $world.filters();
        insta::with_settings!({filters => filters.iter().map(|(r, s)| (r.as_str(), s.as_str()))}, {
            insta::assert_snapshot!($($snapshot)+);
        })
    }};
}
pub(crate) use snapshot;

/// A manifest with the given body under `version: 1`.
pub fn manifest(body: &str) -> String {
    format!("version: 1\n{body}")
}

/// One subscription as a manifest list item.
pub fn entry(name: &str, topic: &str, url: &str) -> String {
    format!("  - {{name: {name}, topic: {topic}, callbackUrl: \"{url}\"}}\n")
}

/// `invhooks sandbox ARGS` as a child process with a clean environment,
/// killed when dropped, however the test ends.
pub struct SandboxProcess {
    /// Its startup lines on stderr, up to and including the
    /// `export INVETERATE_BASE_URL=…` line.
    pub banner: Vec<String>,
    /// The base URL that line tells users to export.
    pub url: String,
    /// The rest of its stderr.
    pub rest: std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    _child: Killed,
}

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl SandboxProcess {
    /// Starts it and reads its banner.
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_invhooks"))
            .env_clear()
            .arg("sandbox")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let child = Killed(child);
        let mut rest = std::io::BufReader::new(stderr).lines();
        let mut banner = Vec::new();
        let url = loop {
            let line = rest
                .next()
                .expect("the sandbox exited before printing its URL")
                .unwrap();
            let url = line
                .trim()
                .strip_prefix("export INVETERATE_BASE_URL=")
                .map(str::to_owned);
            banner.push(line);
            if let Some(url) = url {
                break url;
            }
        };
        Self {
            banner,
            url,
            rest,
            _child: child,
        }
    }
}

/// How long one run of the binary may take before [`Running::finish`]
/// kills it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary running, its output read as it comes (no full pipe blocks
/// it); its stderr so far can be waited on ([`Running::await_stderr`]).
pub struct Running {
    child: Child,
    out: JoinHandle<Vec<u8>>,
    err: Arc<Mutex<Vec<u8>>>,
    err_done: JoinHandle<()>,
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Reads `pipe` into a buffer shared as it fills.
fn drain_shared(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let filled = Arc::clone(&bytes);
    let done = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            filled.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    (bytes, done)
}

impl World {
    /// The binary with `args` against this world's sandbox and key, stdin
    /// closed, for a test that handles its output itself.
    pub fn process(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_invhooks"));
        command
            .env_clear()
            .current_dir(self.dir.path())
            .env("INVETERATE_API_KEY", KEY)
            .env("INVETERATE_BASE_URL", self.sandbox.base_url())
            .args(args)
            .stdin(Stdio::null());
        command
    }
}

impl Running {
    /// Starts the binary with `args` against `world`'s sandbox and key.
    pub fn start(world: &World, args: &[&str]) -> Running {
        Running::start_env(world, args, &[])
    }

    /// [`Running::start`] with extra environment variables.
    pub fn start_env(world: &World, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = world
            .process(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = drain(child.stdout.take().unwrap());
        let (err, err_done) = drain_shared(child.stderr.take().unwrap());
        Running {
            child,
            out,
            err,
            err_done,
        }
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits until what it printed on stderr holds `text`: the moment a
    /// run reaches a step it announces. Fails the test if the binary exits
    /// first or [`RUN_TIMEOUT`] passes.
    pub fn await_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let said = |running: &Running| String::from_utf8_lossy(&running.err.lock().unwrap()).contains(text);
        while !said(self) {
            let over = self.exited() || Instant::now() >= deadline;
            assert!(!over || said(self), "never printed {text:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `SIG<signal>`; the child is not reaped yet, so its pid is
    /// still its own.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits at most [`RUN_TIMEOUT`]; a child still running then is
    /// killed and the test (`what`) fails with what it printed.
    pub fn finish(mut self, what: &str) -> Run {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.err_done.join().unwrap();
        let output = Output {
            status: status.unwrap_or_else(|| self.child.wait().unwrap()),
            stdout: self.out.join().unwrap(),
            stderr: std::mem::take(&mut *self.err.lock().unwrap()),
        };
        let run = Run::checked(output);
        assert!(status.is_some(), "{what}: the binary hung, killed:\n{run}");
        run
    }
}

/// Every string of a YAML (or JSON) document's value, one per line: for
/// asserting what a workflow's steps say, whatever their quoting.
pub fn strings_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("{s}\n"),
        serde_json::Value::Array(items) => items.iter().map(strings_of).collect(),
        serde_json::Value::Object(map) => map.values().map(strings_of).collect(),
        _ => String::new(),
    }
}
