//! [`Ctx`]: one file's problems, the checks every field gets, and what values are
//! checked against (the environment, the merchant's key, the expansion budget).

use std::path::Path;

use super::fields::DEFAULT_API_KEY_ENV;
use super::yaml::{self, At, FieldName, Found, Read, Record, MAX_BYTES};
use super::{Diagnostic, KEY_NEVER_HERE};
use crate::escape::show;
use crate::model::Location;
use crate::topic::closest;

/// The lookup of `${VAR}`s (injected: the core reads no environment).
pub(crate) type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a Path,
    pub(super) problems: Vec<Diagnostic>,
    pub(super) env: Env<'a>,
    /// The variable holding this merchant's API key (`apiKeyEnv`), which no value may use.
    pub(super) key_env: String,
    /// Its value, trimmed, when set and not blank: no value may contain it.
    pub(super) key: Option<String>,
    /// The fleet merchant whose values are checked, for messages about its `vars`.
    pub(super) merchant: Option<String>,
    /// Bytes the file's expanded values may still take (every merchant's of a fleet).
    pub(super) left: usize,
}

/// A field as read: absent, empty (`key:`), of the wrong kind (already reported), or its value.
pub(crate) enum Got<'v, T> {
    Absent,
    Empty,
    Bad,
    Ok(&'v T),
}

/// A file's top level as `T`; else one problem at line 1: `empty`, or that `what` is no mapping.
pub(crate) fn document<T: Read>(
    file: &Path,
    text: &str,
    empty: String,
    what: &str,
    help: &str,
) -> Result<T, Vec<Diagnostic>> {
    let message = match yaml::parse::<T>(file, text).map_err(|d| vec![d])?.0 {
        Ok(top) => return Ok(top),
        Err(Found::Empty) => empty,
        Err(found) => format!("{what} must be a mapping of fields, found {}", found.kind()),
    };
    Err(vec![Diagnostic::new(file, 1, message, help)])
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(file: &'a Path, env: Env<'a>) -> Self {
        let mut ctx = Ctx {
            file,
            problems: Vec::new(),
            env,
            key_env: String::new(),
            key: None,
            merchant: None,
            left: MAX_BYTES,
        };
        ctx.set_key_env(DEFAULT_API_KEY_ENV);
        ctx
    }

    /// The problems found, in line order.
    pub(crate) fn into_problems(mut self) -> Vec<Diagnostic> {
        self.problems.sort_by_key(|d| d.location.line);
        self.problems
    }

    pub(crate) fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    pub(crate) fn error(&mut self, line: usize, message: impl Into<String>, help: impl Into<String>) {
        self.problems
            .push(Diagnostic::new(self.file, line, message, help));
    }

    /// Records a problem at `line`; `None`, for the value it refuses.
    pub(crate) fn fail<T>(&mut self, line: usize, message: impl Into<String>, help: &str) -> Option<T> {
        self.error(line, message, help);
        None
    }

    /// The field `name`; a value of the wrong kind is reported here.
    pub(crate) fn get<'v, T: Read>(&mut self, name: &str, field: &'v Option<At<T>>) -> Got<'v, T> {
        let Some(at) = field else { return Got::Absent };
        let found = match &at.value {
            Ok(value) => return Got::Ok(value),
            Err(Found::Empty) => return Got::Empty,
            Err(found) => found,
        };
        let help = match (T::EXPECTED, found.scalar()) {
            (<bool as Read>::EXPECTED, _) => {
                format!("write `{name}: true` or `{name}: false`, without quotes")
            }
            _ if name == "version" => "write `version: 1`".to_owned(),
            (<String as Read>::EXPECTED, Some(text)) => {
                format!("put the value in quotes, e.g. `{name}: \"{text}\"`")
            }
            (_, _) if *found == Found::Binary => {
                "write the text itself: a manifest is read as written, and `!!binary` is never decoded".into()
            }
            (expected, _) => format!("`{name}` takes {expected}"),
        };
        let message = format!("`{name}` must be {}, found {}", T::EXPECTED, found.kind());
        self.error(at.line, message, help);
        Got::Bad
    }

    /// The field's value when it is given and of its kind.
    pub(crate) fn value<'v, T: Read>(&mut self, name: &str, field: &'v Option<At<T>>) -> Option<&'v T> {
        match self.get(name, field) {
            Got::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// The items of the list `name` that are `T`s, with their lines; the others are reported.
    pub(crate) fn items<'v, T: Read>(
        &mut self,
        name: &str,
        list: &'v [At<T>],
        help: &str,
    ) -> Vec<(usize, &'v T)> {
        let mut valid = Vec::with_capacity(list.len());
        for (n, at) in (1..).zip(list) {
            let (expected, found) = match &at.value {
                Ok(value) => {
                    valid.push((at.line, value));
                    continue;
                }
                Err(found) => (T::EXPECTED, found.kind()),
            };
            let message = format!("item {n} of `{name}` must be {expected}, found {found}");
            self.error(at.line, message, help);
        }
        valid
    }

    /// A text field: `Some("")` when empty, `None` when absent or of the wrong kind.
    pub(crate) fn text<'v>(&mut self, name: &str, field: &'v Option<At<String>>) -> Option<&'v str> {
        match self.get(name, field) {
            Got::Ok(text) => Some(text),
            Got::Empty => Some(""),
            Got::Absent | Got::Bad => None,
        }
    }

    /// Reports the keys of `record` that are no field; returns the fields suggested (no "missing" then).
    pub(crate) fn unknown<R: Record>(&mut self, record: &R) -> Vec<&'static str> {
        let mut suggested = Vec::new();
        let known = || format!("known fields: `{}`", R::FIELDS.join("`, `"));
        for key in record.unknown() {
            let name = match &key.value {
                Ok(FieldName(name)) => name,
                Err(found) => {
                    let message = format!("a field name must be plain text, found {}", found.kind());
                    self.error(key.line, message, known());
                    continue;
                }
            };
            let near = closest(name, R::FIELDS.iter().map(|f| (*f, *f)));
            suggested.extend(near);
            let help = match near {
                Some("apiKeyEnv") => format!("did you mean `apiKeyEnv`? It names the environment variable that holds the key, e.g. `apiKeyEnv: INVETERATE_API_KEY`; {KEY_NEVER_HERE}"),
                Some(field) => format!("did you mean `{field}`?"),
                None => known(),
            };
            let message = format!("unknown field `{}` in {}", show(name), R::WHAT);
            self.error(key.line, message, help);
        }
        suggested
    }

    /// The variable holding this merchant's API key, and so the key.
    pub(super) fn set_key_env(&mut self, name: &str) {
        self.key = (self.env)(name)
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty());
        name.clone_into(&mut self.key_env);
    }

    pub(super) fn location(&self, line: usize) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line,
        }
    }

    /// Counts `bytes` of expanded values against [`MAX_BYTES`], reporting the first overrun.
    pub(super) fn spend(&mut self, line: usize, bytes: usize) -> bool {
        if let Some(left) = self.left.checked_sub(bytes) {
            self.left = left;
            return true;
        }
        if self.left > 0 {
            self.left = 0;
            let mib = MAX_BYTES >> 20;
            let message =
                format!("the subscriptions expand to more than {mib} MiB of names, URLs and topics");
            let help = "a fleet file is expanded once per merchant: split it into several files, or use shorter values";
            self.error(line, message, help);
        }
        false
    }
}
