//! GitHub Actions: the `$GITHUB_STEP_SUMMARY` appends, and annotations on
//! stderr when `GITHUB_ACTIONS=true` (stdout stays the command's data).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::context::Sink;
use super::Context;
use crate::manifest::Diagnostics;
use crate::render::github;

impl Context {
    /// Appends `markdown` to `$GITHUB_STEP_SUMMARY`, unless `disabled`
    /// (`--no-step-summary`) or unset; a failure is a warning, never a failed command.
    pub fn step_summary(&self, disabled: bool, markdown: impl FnOnce() -> String) {
        let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty() && !disabled)
        else {
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

    /// Manifest problems as `::error` annotations on the pull request's diff.
    pub fn annotate(&self, diagnostics: &Diagnostics) {
        self.annotations(|workspace, cwd| github::diagnostics(&diagnostics.0, workspace, cwd));
    }

    /// On GitHub Actions, the annotations `make` builds (files named from
    /// the workspace and the working directory) on stderr, even with `-q`:
    /// the one writer of lines the runner executes, taking only
    /// [`github::Commands`], whose data is escaped.
    pub(super) fn annotations(&self, make: impl FnOnce(Option<&Path>, Option<&Path>) -> github::Commands) {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            let workspace = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty());
            let cwd = std::env::current_dir().ok();
            let commands = make(workspace.as_deref().map(Path::new), cwd.as_deref());
            let _ = std::io::stderr().write_all(crate::api::redact_known(commands.as_str()).as_bytes());
        }
    }
}
