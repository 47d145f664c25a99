//! `${VAR}` expansion in `name` and `callbackUrl`, a small subset of the shell's:
//! `${VAR}` (unset is an error, set but empty is `""`), `${VAR:-text}` (`text`
//! when unset or empty; literal up to the first `}`, no `${` in it), `$${` a
//! literal `${`, any other `$` itself. Errors carry names, never values; the
//! result is bounded before it is built (a fleet's `vars` could build gigabytes).

use super::context::Env;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    Unset(String),
    /// The reference as written (manifest text, never a value).
    Invalid(String),
    Unterminated,
    TooLong,
}

/// Expands `input` into at most `max_bytes`; every problem (each unset variable once).
pub(crate) fn expand(input: &str, env: Env<'_>, max_bytes: usize) -> Result<String, Vec<ExpandError>> {
    let mut out = String::with_capacity(input.len().min(max_bytes));
    let mut errors = Vec::new();
    let push = |out: &mut String, text: &str, errors: &mut Vec<ExpandError>| {
        if out.len().saturating_add(text.len()) > max_bytes {
            if !errors.contains(&ExpandError::TooLong) {
                errors.push(ExpandError::TooLong);
            }
        } else {
            out.push_str(text);
        }
    };
    let mut rest = input;
    while let Some(dollar) = rest.find('$') {
        push(&mut out, &rest[..dollar], &mut errors);
        let after = &rest[dollar..];
        if let Some(tail) = after.strip_prefix("$${") {
            push(&mut out, "${", &mut errors);
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(close) = tail.find('}') else {
                errors.push(ExpandError::Unterminated);
                rest = "";
                break;
            };
            match reference(&tail[..close], env) {
                Ok(value) => push(&mut out, &value, &mut errors),
                Err(error) if !errors.contains(&error) => errors.push(error),
                Err(_) => {}
            }
            rest = &tail[close + 1..];
        } else {
            push(&mut out, "$", &mut errors);
            rest = &after[1..];
        }
    }
    push(&mut out, rest, &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn reference(inner: &str, env: Env<'_>) -> Result<String, ExpandError> {
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (inner, None),
    };
    let nested = default.is_some_and(|d| d.contains("${"));
    if !is_var_name(name) || nested {
        return Err(ExpandError::Invalid(format!("${{{inner}}}")));
    }
    match (env(name), default) {
        (Some(value), None) => Ok(value),
        (Some(value), Some(_)) if !value.is_empty() => Ok(value),
        (_, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(ExpandError::Unset(name.to_owned())),
    }
}

/// `text` with `${` escaped (`$${`), so expanding it gives `text` back.
pub(crate) fn escape(text: &str) -> String {
    text.replace("${", "$${")
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "BASE" => Some("https://h.dev".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(input: &str) -> Result<String, Vec<ExpandError>> {
        expand(input, &env, usize::MAX)
    }

    #[test]
    fn plain_text_and_lone_dollars_are_unchanged() {
        assert_eq!(run("crm-sync").unwrap(), "crm-sync");
        assert_eq!(run("a$b$").unwrap(), "a$b$");
        assert_eq!(run("$$x").unwrap(), "$$x");
        assert_eq!(run("").unwrap(), "");
    }

    #[test]
    fn variables_and_defaults() {
        assert_eq!(run("${BASE}/x").unwrap(), "https://h.dev/x");
        assert_eq!(run("${BASE:-http://d}/x").unwrap(), "https://h.dev/x");
        assert_eq!(run("${NOPE:-http://d}/x").unwrap(), "http://d/x");
        assert_eq!(run("${NOPE:-}x").unwrap(), "x");
        assert_eq!(run("${_A1:-a-b:c}").unwrap(), "a-b:c");
    }

    #[test]
    fn set_but_empty_is_set_but_defaults_apply() {
        assert_eq!(run("[${EMPTY}]").unwrap(), "[]");
        assert_eq!(run("${EMPTY:-d}").unwrap(), "d");
    }

    #[test]
    fn double_dollar_brace_is_a_literal() {
        assert_eq!(run("$${BASE}").unwrap(), "${BASE}");
        // Scanned left to right: a lone `$`, then `$${`.
        assert_eq!(run("$$${BASE}").unwrap(), "$${BASE}");
    }

    #[test]
    fn unset_variables_are_each_reported_once() {
        assert_eq!(
            run("${A}/${B}/${A}").unwrap_err(),
            vec![
                ExpandError::Unset("A".to_owned()),
                ExpandError::Unset("B".to_owned())
            ]
        );
    }

    #[test]
    fn invalid_references() {
        for (input, reference) in [
            ("${}", "${}"),
            ("x${1X}y", "${1X}"),
            ("${A-B}", "${A-B}"),
            ("${A:=b}", "${A:=b}"),
            ("${A:-${B}}", "${A:-${B}"),
        ] {
            assert_eq!(
                run(input).unwrap_err(),
                vec![ExpandError::Invalid(reference.to_owned())],
                "{input}"
            );
        }
        assert_eq!(
            run("https://${BASE").unwrap_err(),
            vec![ExpandError::Unterminated]
        );
        assert_eq!(run("${").unwrap_err(), vec![ExpandError::Unterminated]);
    }

    #[test]
    fn a_result_past_the_cap_is_refused_before_it_is_built() {
        assert_eq!(expand("${BASE}", &env, 13).unwrap(), "https://h.dev");
        assert_eq!(
            expand("${BASE}", &env, 12).unwrap_err(),
            vec![ExpandError::TooLong]
        );
        let many = "${BASE}".repeat(1_000);
        assert_eq!(expand(&many, &env, 100).unwrap_err(), vec![ExpandError::TooLong]);
    }

    #[test]
    fn variable_names() {
        assert!(is_var_name("INVETERATE_API_KEY_EU"));
        assert!(is_var_name("_x9"));
        assert!(!is_var_name("9x"));
        assert!(!is_var_name(""));
        assert!(!is_var_name("A-B"));
    }
}
