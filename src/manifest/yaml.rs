//! Text → YAML value and line index: the nesting bound checked before
//! parsing, serde_yaml's parse (beside the line index for a large text),
//! and its errors made into diagnostics at their line.

use std::path::Path;

use super::diagnostic::{empty, Diagnostic};
use super::lines::LineIndex;

/// Deepest `[` / `{` nesting handed to the YAML parser. serde_yaml stops at
/// 128 levels, but only after libyaml's scanner has read the nesting, in
/// time quadratic in its depth (an 8 MiB line of `[` would take hours), so
/// deeper text is refused before parsing.
const MAX_FLOW_DEPTH: usize = 1_000;

/// Parses one file's text (a leading byte-order mark is skipped): the
/// YAML value and the line index of its paths.
pub(super) fn parse(file: &Path, text: &str) -> Result<(serde_yaml::Value, LineIndex), Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(vec![empty(file)]);
    }
    if let Some(line) = too_deep(text) {
        return Err(vec![Diagnostic::new(
            file,
            line,
            format!("invalid YAML: lists or mappings nest more than {MAX_FLOW_DEPTH} levels deep"),
            Some("a manifest needs only a few levels; check for unclosed `[` or `{`".to_owned()),
        )]);
    }
    let (parsed, index) = parse_and_index(text);
    let value = parsed.map_err(|error| vec![super::tabs::hint(yaml_error(file, &error), text)])?;
    let index = index.unwrap_or_else(|| LineIndex::build(text));
    Ok((value, index))
}

/// The line where `[` / `{` nesting first exceeds [`MAX_FLOW_DEPTH`],
/// counting brackets outside `#` comments. Brackets inside scalars count
/// too, so this over-estimates; the margin over serde_yaml's own limit of
/// 128 keeps real manifests far from it.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let mut previous = ' ';
        for c in line.chars() {
            match c {
                '#' if previous.is_whitespace() => break,
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_FLOW_DEPTH {
                return Some(i + 1);
            }
            previous = c;
        }
    }
    None
}

/// Text from which [`parse_and_index`] builds the line index on a thread of
/// its own (below it, a thread costs more than it saves).
const PARALLEL_INDEX_BYTES: usize = 64 * 1024;

/// serde_yaml's parse of `text` and, for a large text, its line index:
/// two independent passes over the same text, run side by side (they are
/// most of a large manifest's load time). `None`: build the index after
/// the parse, only if it succeeded.
fn parse_and_index(text: &str) -> (Result<serde_yaml::Value, serde_yaml::Error>, Option<LineIndex>) {
    if text.len() < PARALLEL_INDEX_BYTES {
        return (serde_yaml::from_str(text), None);
    }
    std::thread::scope(|scope| {
        let indexing = std::thread::Builder::new().spawn_scoped(scope, || LineIndex::build(text));
        let parsed = serde_yaml::from_str(text);
        // `build` never panics (it catches the parser's panics); if the
        // thread could not start, the caller builds the index itself.
        let index = indexing.ok().and_then(|handle| handle.join().ok());
        (parsed, index)
    })
}

/// A YAML syntax error (or one of serde_yaml's limits, such as the alias
/// repetition limit) at the line serde_yaml reports.
fn yaml_error(file: &Path, error: &serde_yaml::Error) -> Diagnostic {
    let line = error.location().map_or(1, |l| l.line().max(1));
    // serde_yaml's messages can quote keys from the document: escaped.
    let message = crate::escape::escape(&strip_positions(&error.to_string())).into_owned();
    let hints = [
        (
            "repetition limit",
            "YAML aliases expand to too much data; write the entries out",
        ),
        (
            "recursion limit",
            "lists or mappings nest too deeply; a manifest needs only a few levels",
        ),
        (
            "duplicate entry",
            "each field may appear once per mapping; remove the repeated key",
        ),
        (
            "more than one document",
            "a manifest is one YAML document; remove the `---` line or split the file",
        ),
        (
            "unknown anchor",
            "define the anchor (`&name`) before the alias that uses it (`*name`)",
        ),
    ];
    let help = hints.iter().find(|(needle, _)| message.contains(needle)).map_or(
        "check the indentation and quoting on this line and the one before",
        |(_, help)| help,
    );
    Diagnostic::new(
        file,
        line,
        format!("invalid YAML: {message}"),
        Some(help.to_owned()),
    )
}

/// Removes serde_yaml's ` at line N column M` / ` at position N` parts:
/// the diagnostic already names the line.
fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        let skipped = skip_position(after);
        if skipped.len() == after.len() {
            out.push_str(" at ");
        }
        rest = skipped;
    }
    out.push_str(rest);
    out
}

/// `after` without a leading `line N column M` or `position N`.
fn skip_position(after: &str) -> &str {
    fn skip_number(s: &str) -> &str {
        s.trim_start_matches(|c: char| c.is_ascii_digit())
    }
    let digits = |s: &str| skip_number(s).len() < s.len();
    if let Some(s) = after.strip_prefix("line ").filter(|s| digits(s)) {
        let s = skip_number(s);
        if let Some(c) = s.strip_prefix(" column ").filter(|c| digits(c)) {
            return skip_number(c);
        }
        return s;
    }
    if let Some(s) = after.strip_prefix("position ").filter(|s| digits(s)) {
        return skip_number(s);
    }
    after
}
