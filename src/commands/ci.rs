//! GitHub Actions conventions, for `plan`, `apply`, `drift` and manifest
//! loading: the Markdown summary appended to `$GITHUB_STEP_SUMMARY`, and
//! workflow-command annotations when `GITHUB_ACTIONS=true`.
//!
//! Annotations go to stderr: the runner reads workflow commands from both
//! output streams, and stdout stays the command's data (a JSON plan piped to
//! a file must not get `::error` lines in it).

use std::path::PathBuf;

use super::context::Sink;
use super::Context;
use crate::manifest::Diagnostics;
use crate::render::github;

/// Whether this process runs as a GitHub Actions step.
pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

impl Context {
    /// Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names, unless
    /// `disabled` (`--no-step-summary`) or the variable is unset. A summary
    /// that cannot be written is a warning, never a failed command.
    pub fn step_summary(&self, disabled: bool, markdown: impl FnOnce() -> String) {
        if disabled {
            return;
        }
        let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
            return;
        };
        let path = PathBuf::from(path);
        let mut text = markdown();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if let Err(e) = self.emit(Sink::Append(&path), &text) {
            self.warn(&format!(
                "could not append the summary to `$GITHUB_STEP_SUMMARY` (`{}`): {e}; pass `--no-step-summary` to skip it",
                path.display()
            ));
        }
    }

    /// On GitHub Actions, repeats manifest problems as `::error` annotations
    /// so they show on the pull request's diff.
    pub fn annotate(&self, diagnostics: &Diagnostics) {
        if !in_github_actions() {
            return;
        }
        let workspace = std::env::var_os("GITHUB_WORKSPACE")
            .filter(|w| !w.is_empty())
            .map(PathBuf::from);
        let cwd = std::env::current_dir().ok();
        self.workflow_commands(&github::diagnostics(
            &diagnostics.0,
            workspace.as_deref(),
            cwd.as_deref(),
        ));
    }

    /// On GitHub Actions, repeats a plan's safety warnings as `::warning`
    /// annotations on the merchant's manifest file.
    pub fn annotate_warnings(&self, warnings: &[(PathBuf, String)]) {
        if !in_github_actions() || warnings.is_empty() {
            return;
        }
        let workspace = std::env::var_os("GITHUB_WORKSPACE")
            .filter(|w| !w.is_empty())
            .map(PathBuf::from);
        let cwd = std::env::current_dir().ok();
        let commands: github::Commands = warnings
            .iter()
            .map(|(file, message)| {
                let file = github::repo_path(file, workspace.as_deref(), cwd.as_deref());
                github::annotation(
                    github::Level::Warning,
                    Some(&file),
                    None,
                    "invhooks: apply will refuse without --force",
                    message,
                )
            })
            .collect();
        self.workflow_commands(&commands);
    }
}
