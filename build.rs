//! Sets `INVHOOKS_VERSION` for `--version` and saved plans: the package
//! version, plus the short git commit when built from a git checkout of this
//! package (`0.1.0 (1a2b3c4)`). Anything unusual (no `git`, no `.git`, a
//! tarball unpacked inside some other repository, a refused `safe.directory`)
//! falls back silently to the bare package version: the build never fails
//! because of git.
#![allow(clippy::print_stdout, reason = "a build script talks to cargo on stdout")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=INVHOOKS_GIT_COMMIT");
    let package = env("CARGO_PKG_VERSION").unwrap_or_default();
    // A packager building from a tarball may name the commit itself.
    let commit = env("INVHOOKS_GIT_COMMIT")
        .filter(|c| is_commit(c))
        .or_else(|| env("CARGO_MANIFEST_DIR").and_then(|dir| git_commit(Path::new(&dir))));
    let version = match commit {
        Some(commit) => format!("{package} ({commit})"),
        None => package,
    };
    println!("cargo:rustc-env=INVHOOKS_VERSION={version}");
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The short commit of HEAD, when `dir` is the top level of a git work tree.
fn git_commit(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    // Only our own checkout counts, not a repository the sources sit inside.
    if canonical(Path::new(&top))? != canonical(dir)? {
        return None;
    }
    watch_head(dir);
    git(dir, &["rev-parse", "--short", "HEAD"]).filter(|c| is_commit(c))
}

/// A plausible abbreviated commit id.
fn is_commit(text: &str) -> bool {
    (4..=40).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// Rebuilds when HEAD moves: the HEAD file, the branch it names, packed refs.
/// Only existing files are named (a missing one would rerun every build).
fn watch_head(dir: &Path) {
    let resolve = |flag: &str| git(dir, &["rev-parse", flag]).map(|p| dir.join(p));
    let (Some(git_dir), Some(common)) = (resolve("--git-dir"), resolve("--git-common-dir")) else {
        return;
    };
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(branch));
    }
    for file in files.iter().filter(|f| f.is_file()) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}
