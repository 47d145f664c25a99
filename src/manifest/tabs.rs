//! The hint for the most common YAML mistake the parser explains worst: a
//! tab in indentation ("while scanning a plain scalar, found a tab").

use super::diagnostic::Diagnostic;

/// The help shown when a YAML error is on (or just after) a line indented
/// with a tab.
pub(crate) const TAB_HELP: &str = "YAML does not allow tabs for indentation; use spaces";

/// `diagnostic` (a YAML syntax error in `text`) with the tab hint when its
/// line, the line after (the parser can stop at the end of the line before
/// the tab) or the line before has a tab in its indentation; the location
/// then names the line with the tab.
pub(crate) fn hint(mut diagnostic: Diagnostic, text: &str) -> Diagnostic {
    let line = diagnostic.location.line;
    let lines = yaml_lines(text);
    let tabbed = |n: usize| {
        n >= 1
            && lines.get(n - 1).is_some_and(|l| {
                l.chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .any(|c| c == '\t')
            })
    };
    let found = [line, line + 1, line.saturating_sub(1)]
        .into_iter()
        .find(|&n| tabbed(n));
    if let Some(n) = found {
        diagnostic.location.line = n;
        diagnostic.help = Some(TAB_HELP.to_owned());
    }
    diagnostic
}

/// `text` split into lines where YAML 1.2 (and the parser) breaks them:
/// LF, CRLF and a lone CR, so line numbers agree with its errors.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' if chars.peek().is_some_and(|(_, n)| *n == '\n') => {
                chars.next();
                i + 2
            }
            '\n' | '\r' => i + 1,
            _ => continue,
        };
        lines.push(&text[start..i]);
        start = end;
    }
    lines.push(&text[start..]);
    lines
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::path::Path;

    use super::*;

    fn load(text: &str) -> Diagnostic {
        let mut d = super::super::load_str(Path::new("t.yaml"), text, &|_| None)
            .unwrap_err()
            .0;
        assert_eq!(d.len(), 1, "{d:?}");
        d.remove(0)
    }

    #[test]
    fn a_tab_in_indentation_gets_the_hint_and_its_line() {
        for (text, line) in [
            ("version: 1\nsubscriptions:\n\t- name: a\n", 3),
            ("version: 1\nsubscriptions:\n  - name: a\n\ttopic: x\n", 4),
            ("version: 1\r\nsubscriptions:\r\n\t- name: a\r\n", 3),
        ] {
            let d = load(text);
            assert_eq!(d.help.as_deref(), Some(TAB_HELP), "{text:?}: {d:?}");
            assert_eq!(d.location.line, line, "{text:?}: {d:?}");
            assert!(d.message.starts_with("invalid YAML"), "{d:?}");
        }
    }

    #[test]
    fn other_yaml_errors_keep_their_help() {
        let d = load("version: 1\nsubscriptions: [\n  a: \"b\n");
        assert_ne!(d.help.as_deref(), Some(TAB_HELP), "{d:?}");
        // A tab inside a value is not indentation.
        let d = load("version: 1\nmerchant: \"a\tb\nsubscriptions: [\n");
        assert_ne!(d.help.as_deref(), Some(TAB_HELP), "{d:?}");
    }

    #[test]
    fn lines_break_where_the_parser_breaks_them() {
        assert_eq!(
            yaml_lines("a\nb\r\nc\rd\u{2028}e\u{85}f"),
            ["a", "b", "c", "d\u{2028}e\u{85}f"]
        );
        assert_eq!(yaml_lines(""), [""]);
    }
}
