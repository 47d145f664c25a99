//! GitHub Actions workflow commands (`::error file=…,line=…::message`), so
//! manifest problems show inline on a pull request's diff. Pure: builds the
//! lines; [`crate::commands`] decides when (`GITHUB_ACTIONS=true`) and
//! writes them.
//!
//! Escaping follows GitHub's rules (the `@actions/core` toolkit's
//! `escapeData` / `escapeProperty`): in the message `%`, CR and LF become
//! `%25`, `%0D`, `%0A`; in a property value `:` and `,` also become `%3A`
//! and `%2C`.

use std::path::{Component, Path, PathBuf};

use crate::manifest::Diagnostic;

/// Severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`.
    Error,
    /// `::warning`.
    Warning,
}

/// Escapes the message part of a workflow command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`) of a workflow command.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line (with its newline). `line` is 1-based.
pub fn annotation(
    level: Level,
    file: Option<&str>,
    line: Option<usize>,
    title: &str,
    message: &str,
) -> String {
    let command = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(file) = file {
        props.push(format!("file={}", escape_property(file)));
    }
    if let Some(line) = line {
        props.push(format!("line={line}"));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{command} {}::{}\n", props.join(","), escape_data(message))
}

/// The annotations of manifest diagnostics. Paths are made relative to
/// `workspace` (`GITHUB_WORKSPACE`, the repository root GitHub resolves
/// annotation paths against) when they lie inside it; `cwd` resolves
/// relative paths first.
pub fn diagnostics(diagnostics: &[Diagnostic], workspace: Option<&Path>, cwd: Option<&Path>) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let file = repo_path(&d.location.file, workspace, cwd);
            let message = match &d.help {
                Some(help) => format!("{}\nhelp: {help}", d.message),
                None => d.message.clone(),
            };
            annotation(
                Level::Error,
                Some(&file),
                Some(d.location.line).filter(|&line| line > 0),
                "invhooks: invalid manifest",
                &message,
            )
        })
        .collect()
}

/// `path` as GitHub wants it in an annotation: relative to the workspace,
/// with `/` separators and no `./`.
pub fn repo_path(path: &Path, workspace: Option<&Path>, cwd: Option<&Path>) -> String {
    let absolute = match cwd {
        Some(cwd) if path.is_relative() => normalise(&cwd.join(path)),
        _ => normalise(path),
    };
    let shown = match workspace.map(normalise) {
        Some(ws) => absolute
            .strip_prefix(&ws)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| normalise(path)),
        None => normalise(path),
    };
    let parts: Vec<String> = shown
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            Component::RootDir => Some(String::new()),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.join("/")
}

/// Removes `.` and folds `..` lexically (the file may not exist).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;

    #[test]
    fn data_and_properties_are_escaped() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn an_annotation_names_file_line_and_title() {
        assert_eq!(
            annotation(
                Level::Error,
                Some("m/a,b.yaml"),
                Some(4),
                "invhooks: x",
                "bad\nhelp: fix"
            ),
            "::error file=m/a%2Cb.yaml,line=4,title=invhooks%3A x::bad%0Ahelp: fix\n"
        );
        assert_eq!(
            annotation(Level::Warning, None, None, "t", "m"),
            "::warning title=t::m\n"
        );
    }

    #[test]
    fn paths_are_relative_to_the_workspace() {
        let ws = Path::new("/home/runner/work/repo/repo");
        let in_ws = Path::new("/home/runner/work/repo/repo/sub");
        assert_eq!(
            repo_path(Path::new("./webhooks.yaml"), Some(ws), Some(ws)),
            "webhooks.yaml"
        );
        assert_eq!(
            repo_path(Path::new("../repo/m/a.yaml"), Some(ws), Some(ws)),
            "m/a.yaml"
        );
        assert_eq!(
            repo_path(Path::new("a.yaml"), Some(ws), Some(in_ws)),
            "sub/a.yaml"
        );
        assert_eq!(
            repo_path(Path::new("/elsewhere/a.yaml"), Some(ws), Some(ws)),
            "/elsewhere/a.yaml"
        );
        assert_eq!(repo_path(Path::new("./m/a.yaml"), None, None), "m/a.yaml");
    }

    #[test]
    fn diagnostics_become_error_annotations_with_help() {
        let d = Diagnostic {
            location: Location {
                file: "webhooks.yaml".into(),
                line: 7,
            },
            message: "unknown topic `customer.canceled`".into(),
            help: Some("did you mean `customer.cancelled`?".into()),
        };
        assert_eq!(
            diagnostics(&[d], None, None),
            "::error file=webhooks.yaml,line=7,title=invhooks%3A invalid manifest::unknown topic \
             `customer.canceled`%0Ahelp: did you mean `customer.cancelled`?\n"
        );
    }
}
