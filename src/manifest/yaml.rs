//! Text → YAML value and line index: the one parse
//! ([`events`](super::events)), and its problems made into diagnostics at
//! their line.

use std::path::Path;

use super::diagnostic::{empty, Diagnostic};
use super::events::{self, Problem};
use super::lines::LineIndex;

/// Parses one file's text (a leading byte-order mark is skipped): the
/// YAML value and the line index of its paths.
pub(super) fn parse(file: &Path, text: &str) -> Result<(serde_yaml::Value, LineIndex), Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(vec![empty(file)]);
    }
    events::load(text).map_err(|problem| vec![super::tabs::hint(yaml_error(file, problem), text)])
}

/// Text from which [`release`] frees the parsed value on a thread of its
/// own: below it, a thread costs more than the freeing.
const RELEASE_BYTES: usize = 64 * 1024;

/// Frees a parsed document that validation is done with. A large one (a
/// value per scalar, a mapping per entry: about a millisecond per 1,000
/// subscriptions) is freed on a thread of its own, beside the work that
/// follows; the process may end before it finishes.
pub(super) fn release(value: serde_yaml::Value, index: LineIndex, text_len: usize) {
    if text_len < RELEASE_BYTES {
        return;
    }
    // If the thread cannot start, the closure (and the value) is dropped
    // here instead.
    let _ = std::thread::Builder::new().spawn(move || drop((value, index)));
}

/// A YAML problem as a diagnostic at its line. The parser's messages
/// can quote the document: escaped.
fn yaml_error(file: &Path, problem: Problem) -> Diagnostic {
    let message = crate::escape::escape(&problem.message).into_owned();
    let help = problem
        .help
        .unwrap_or("check the indentation and quoting on this line and the one before");
    Diagnostic::new(
        file,
        problem.line,
        format!("invalid YAML: {message}"),
        Some(help.to_owned()),
    )
}
