//! The docs cannot drift from the tool: every fenced `sh` block of
//! README.md and docs/ is run, page by page, in a fresh directory against
//! the sandbox, unless the line before it says why it cannot run
//! (`<!-- docs-test: not run (REASON) -->`). A `yaml title="FILE"` block is
//! written to FILE where it stands, so the commands after it read it.
//! A sandbox a page starts (`--listen 127.0.0.1:8787 … &`) listens on a
//! free port instead (`127.0.0.1:0`), which the page's other
//! `127.0.0.1:8787`s become once the sandbox has printed it, so pages never
//! collide with another run. Each command must exit 0 or 2 (changes
//! present); anything else fails the page with the command.
#![cfg(unix)]

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The languages of command blocks: each must be run or marked.
const COMMAND_LANGUAGES: [&str; 4] = ["sh", "console", "bash", "shell"];
/// The mark on the line before a block that cannot run.
const NOT_RUN: &str = "<!-- docs-test: not run (";
/// How long one page's commands may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);

/// Subcommands that SPEC defines and other branches are building: until
/// the binary has one, a stand-in shell function takes its place, so the
/// rest of the page still runs. Once it exists, this test fails until the
/// entry is removed, so the real command runs.
const PENDING: [(&str, &str); 0] = [];

/// One fenced block of a page.
#[derive(Debug)]
struct Block {
    /// `file:line` of its opening fence.
    at: String,
    /// The info string's first word (`sh`, `yaml`, …).
    language: String,
    /// `title="…"` of the info string.
    title: Option<String>,
    /// Why it is not run, from the mark on the line before it.
    not_run: Option<String>,
    /// Its lines, without the fence's indentation.
    text: String,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every page under docs/, sorted.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut out);
    out.sort();
    out
}

/// The fenced blocks of a Markdown page.
fn blocks(name: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let Some(info) = line.trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let language = info.split_whitespace().next().unwrap_or_default().to_owned();
        let title = info
            .split_once("title=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(t, _)| t.to_owned());
        let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
        let not_run = before
            .and_then(|l| l.trim().strip_prefix(NOT_RUN))
            .map(|rest| rest.trim_end_matches(" -->").trim_end_matches(')').to_owned());
        let start = i;
        i += 1;
        let mut body = Vec::new();
        while i < lines.len() && lines[i].trim() != "```" {
            body.push(lines[i].get(indent..).unwrap_or(lines[i].trim_start()));
            i += 1;
        }
        i += 1;
        out.push(Block {
            at: format!("{name}:{}", start + 1),
            language,
            title,
            not_run,
            text: body.join("\n") + "\n",
        });
    }
    out
}

/// Whether this binary has `subcommand`.
fn has_subcommand(subcommand: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_invhooks"))
        .args([subcommand, "--help"])
        .env_clear()
        .output()
        .unwrap()
        .status
        .success()
}

/// The port of the sandbox a page started, from the URL it prints on
/// stderr (into `$HOME/.docs-test-sandbox`); at most 10 s.
const SANDBOX_PORT: &str = r#"__docs_test_port() {
  for _ in $(seq 1000); do
    sed -n 's|.*export INVETERATE_BASE_URL=http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$HOME/.docs-test-sandbox" 2>/dev/null | grep . && return
    sleep 0.01
  done
  echo "docs-test: the sandbox printed no URL:" >&2; cat "$HOME/.docs-test-sandbox" >&2; return 1
}
"#;

/// A command line of a page as the script runs it: a sandbox in the
/// background on a free port, whose port the lines after it use.
fn command_line(line: &str) -> String {
    match line.trim_end().strip_suffix('&') {
        Some(start) if line.contains("invhooks sandbox") => format!(
            "{} 2>\"$HOME/.docs-test-sandbox\" &\nDOCS_TEST_PORT=$(__docs_test_port)\n",
            start.replacen("--listen 127.0.0.1:8787", "--listen 127.0.0.1:0", 1)
        ),
        _ => line.replace("127.0.0.1:8787", "127.0.0.1:$DOCS_TEST_PORT") + "\n",
    }
}

/// The page's blocks as one bash script, or `None` when nothing runs.
fn script(blocks: &[Block], stand_ins: &[(&str, &str)]) -> Option<String> {
    let mut script = String::from(
        "trap 'rc=$?; if [ \"$rc\" -ne 2 ]; then echo \"docs-test: \\`$BASH_COMMAND\\` exited $rc\" >&2; exit 97; fi' ERR\n",
    );
    script.push_str(SANDBOX_PORT);
    if !stand_ins.is_empty() {
        script.push_str("invhooks() {\n  case \"$1\" in\n");
        for (sub, _) in stand_ins {
            script.push_str(&format!("    {sub}) shift; __pending_{sub} \"$@\" ;;\n"));
        }
        script.push_str("    *) command invhooks \"$@\" ;;\n  esac\n}\n");
        for (sub, body) in stand_ins {
            script.push_str(&format!("__pending_{sub}() {{\n  {body}\n}}\n"));
        }
    }
    let mut runs = false;
    for block in blocks.iter().filter(|b| b.not_run.is_none()) {
        if let Some(title) = &block.title {
            script.push_str(&format!(
                "mkdir -p \"$(dirname '{title}')\"\ncat > '{title}' <<'DOCS_TEST_EOF'\n{}DOCS_TEST_EOF\n",
                block.text
            ));
        } else if COMMAND_LANGUAGES.contains(&block.language.as_str()) {
            runs = true;
            script.push_str(&format!("echo 'docs-test: {}' >&2\n", block.at));
            script.extend(block.text.lines().map(command_line));
        }
    }
    runs.then_some(script)
}

/// Runs a page's script in `world`'s directory, in its own process group,
/// which is killed afterwards (a sandbox the page left running too).
fn run_page(world: &World, script: &str) -> Run {
    let path = world.path("docs-test.sh");
    std::fs::write(&path, script).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_invhooks")).parent().unwrap();
    let home = world.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new("bash")
        .arg(&path)
        .env_clear()
        .env("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()))
        .env("HOME", &home)
        .env("INVETERATE_API_KEY", KEY)
        .env("INVETERATE_BASE_URL", world.sandbox.base_url())
        .current_dir(world.dir.path())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = child.id().to_string();
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + PAGE_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever is left of the group (a background sandbox) ends here, so
    // the pipes close.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let status = status.unwrap_or_else(|| child.wait().unwrap());
    let run = Run::checked(std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    });
    assert!(
        Instant::now() < deadline,
        "the page's commands took longer than {PAGE_TIMEOUT:?}:\n{run}"
    );
    run
}

#[test]
fn every_command_block_of_the_docs_runs_against_the_sandbox_or_says_why_not() {
    let mut stand_ins = Vec::new();
    for (sub, body) in PENDING {
        assert!(
            !has_subcommand(sub),
            "`invhooks {sub}` exists now: remove it from PENDING in tests/it/docs.rs, so the docs run the real one"
        );
        stand_ins.push((sub, body));
    }
    let mut failures = Vec::new();
    let (mut ran, mut marked) = (0, 0);
    let mut quick_start = false;
    for page in pages() {
        let name = page.strip_prefix(repo()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&page).unwrap();
        let blocks = blocks(&name, &text);
        for block in &blocks {
            if let Some(reason) = &block.not_run {
                assert!(
                    COMMAND_LANGUAGES.contains(&block.language.as_str()),
                    "{}: only command blocks are marked as not run",
                    block.at
                );
                assert!(!reason.trim().is_empty(), "{}: say why it is not run", block.at);
                marked += 1;
            } else if COMMAND_LANGUAGES.contains(&block.language.as_str()) {
                assert_eq!(block.language, "sh", "{}: command blocks are `sh`", block.at);
                for line in block.text.lines().filter(|l| l.contains("invhooks sandbox")) {
                    assert!(
                        line.contains("--listen 127.0.0.1:8787") && line.trim_end().ends_with('&'),
                        "{}: a sandbox in the docs listens on 127.0.0.1:8787 in the background (the test moves it to a free port): {line}",
                        block.at
                    );
                }
                ran += 1;
                quick_start |= name == "README.md" && block.text.contains("invhooks init");
            }
        }
        let Some(script) = script(&blocks, &stand_ins) else {
            continue;
        };
        let world = World::new();
        let run = run_page(&world, &script);
        if run.code != 0 {
            failures.push(format!("{name}:\n{run}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        quick_start,
        "README.md's quick start (with `invhooks init`) was not run"
    );
    assert!(ran >= 20 && marked >= 10, "{ran} blocks run, {marked} marked");
}

/// Each command's page names every flag of its `--help`.
#[test]
fn every_flag_of_a_command_is_on_its_page() {
    for page in pages() {
        let Some(command) = page
            .strip_prefix(repo().join("docs/commands"))
            .ok()
            .and_then(|p| p.to_str()?.strip_suffix(".md").map(str::to_owned))
        else {
            continue;
        };
        if command == "index" || !has_subcommand(&command) {
            continue;
        }
        let help = Command::new(env!("CARGO_BIN_EXE_invhooks"))
            .args([&command, "--help"])
            .env_clear()
            .output()
            .unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        let text = std::fs::read_to_string(&page).unwrap();
        let local = help.split("\nGlobal options:").next().unwrap();
        for flag in local
            .split_whitespace()
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|f| !["--help", "--version"].contains(f))
        {
            let named = text.match_indices(flag).any(|(at, _)| {
                !text[at + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            });
            assert!(named, "docs/commands/{command}.md does not mention `{flag}`");
        }
    }
}
