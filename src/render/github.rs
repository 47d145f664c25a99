//! GitHub Actions workflow commands, data escaped as `@actions/core` does.
//! The runner runs any line starting (after white space) with `::` or `##[`:
//! only [`Commands`] may; every other line goes through [`defuse`].

use std::borrow::Cow;
use std::path::{Component, Path};

use crate::escape::is_unsafe;
use crate::manifest::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// Workflow command lines, built only here: the one text not [`defuse`]d.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commands(String);

impl Commands {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromIterator<Commands> for Commands {
    fn from_iter<I: IntoIterator<Item = Commands>>(iter: I) -> Self {
        Commands(iter.into_iter().map(|c| c.0).collect())
    }
}

/// Every line (split at LF and CR) the runner would read as a command made
/// inert: its first character escaped (`\u{3a}:notice…`).
pub fn defuse(text: &str) -> Cow<'_, str> {
    let starts_command = |line: &str| {
        let rest = line.trim_start_matches(|c: char| c.is_whitespace() || is_unsafe(c));
        (rest.starts_with("::") || rest.starts_with("##[")).then(|| line.len() - rest.len())
    };
    let lines = text.split_inclusive(['\n', '\r']);
    if lines.clone().all(|line| starts_command(line).is_none()) {
        return Cow::Borrowed(text);
    }
    let defused = lines.map(|line| match starts_command(line) {
        // `:` or `#`, one byte.
        Some(at) => {
            let (head, byte, rest) = (&line[..at], line.as_bytes()[at], &line[at + 1..]);
            format!("{head}\\u{{{byte:x}}}{rest}")
        }
        None => line.to_owned(),
    });
    Cow::Owned(defused.collect())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line (with its newline). `line` is 1-based.
pub fn annotation(level: Level, file: &str, line: Option<usize>, title: &str, message: &str) -> Commands {
    let command = ["error", "warning"][level as usize];
    let line = line.map(|l| format!("line={l},")).unwrap_or_default();
    let (file, title) = (escape_property(file), escape_property(title));
    let message = escape_data(message);
    let text = format!("::{command} file={file},{line}title={title}::{message}\n");
    Commands(text)
}

/// Annotations of manifest diagnostics, paths relative to `workspace`
/// (`GITHUB_WORKSPACE`, which GitHub resolves them against).
pub fn diagnostics(diagnostics: &[Diagnostic], workspace: Option<&Path>, cwd: Option<&Path>) -> Commands {
    let annotate = |d: &Diagnostic| {
        let file = repo_path(&d.location.file, workspace, cwd);
        let line = Some(d.location.line).filter(|&line| line > 0);
        let message =
            (d.help.as_ref()).map_or(d.message.clone(), |help| format!("{}\nhelp: {help}", d.message));
        annotation(Level::Error, &file, line, "invhooks: invalid manifest", &message)
    };
    diagnostics.iter().map(annotate).collect()
}

/// `path` (relative to `cwd`) as an annotation wants it: relative to the
/// workspace, `/` separators, no `./`.
pub fn repo_path(path: &Path, workspace: Option<&Path>, cwd: Option<&Path>) -> String {
    let joined = cwd.map_or(path.to_path_buf(), |cwd| cwd.join(path));
    let (absolute, workspace) = (parts(&joined), workspace.map(parts));
    let inside = workspace.and_then(|ws| absolute.strip_prefix(&ws[..]));
    let shown = inside.map_or_else(|| parts(path), <[_]>::to_vec);
    let text = shown.iter().filter_map(|c| match c {
        Component::Normal(p) => Some(p.to_string_lossy()),
        Component::ParentDir => Some("..".into()),
        Component::RootDir => Some("".into()),
        Component::CurDir | Component::Prefix(_) => None,
    });
    text.collect::<Vec<_>>().join("/")
}

/// `.` removed and `..` folded lexically (the file may not exist).
fn parts(path: &Path) -> Vec<Component<'_>> {
    let mut out = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;

    #[test]
    fn no_other_line_can_start_a_workflow_command() {
        assert!(matches!(defuse("plain\nmerchant ::x\n"), Cow::Borrowed(_)));
        assert_eq!(
            defuse("::notice title=a::b: done\n  ::error::x\r##[warning]y\n\u{200b} ::z"),
            "\\u{3a}:notice title=a::b: done\n  \\u{3a}:error::x\r\\u{23}#[warning]y\n\u{200b} \\u{3a}:z"
        );
    }

    proptest::proptest! {
        #[test]
        fn defused_text_has_no_command_line_and_keeps_the_rest(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["::", "##[", ":", "#", " ", "\t", "\n", "\r", "\u{a0}", "\u{200b}", "a", "%"]),
                0..24,
            )
        ) {
            let text = pieces.concat();
            let out = defuse(&text);
            for line in out.split(['\n', '\r']) {
                let rest = line.trim_start_matches(|c: char| c.is_whitespace() || crate::escape::is_unsafe(c));
                proptest::prop_assert!(!rest.starts_with("::") && !rest.starts_with("##["), "{out:?}");
            }
            proptest::prop_assert_eq!(out.replace("\\u{3a}", ":").replace("\\u{23}", "#"), text.as_str());
        }
    }

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
                "m/a,b.yaml",
                Some(4),
                "invhooks: x",
                "bad\nhelp: fix"
            )
            .as_str(),
            "::error file=m/a%2Cb.yaml,line=4,title=invhooks%3A x::bad%0Ahelp: fix\n"
        );
        assert_eq!(
            annotation(Level::Warning, "a.yaml", None, "t", "m").as_str(),
            "::warning file=a.yaml,title=t::m\n"
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
            diagnostics(&[d], None, None).as_str(),
            "::error file=webhooks.yaml,line=7,title=invhooks%3A invalid manifest::unknown topic \
             `customer.canceled`%0Ahelp: did you mean `customer.cancelled`?\n"
        );
    }
}
