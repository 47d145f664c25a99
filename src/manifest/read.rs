//! Reading a YAML mapping into one of the [`raw`](super::raw) types field
//! by field ([`read_mapping`]), so one bad value never hides another, and
//! [`Ctx`], where the walk is and where its problems go. Used by every
//! value check of the folder; imports only leaves.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use super::diagnostic::Diagnostic;
use super::lines::{child, LineIndex, Seg};
use super::raw::{Field, Kind, DEFAULT_API_KEY_ENV};
use crate::escape::show;
use crate::model::Location;
use crate::topic::closest;

/// What the walk needs: where it is and where problems go.
pub(super) struct Ctx<'a> {
    file: &'a Path,
    index: &'a LineIndex,
    /// Environment lookup for `${VAR}`.
    pub(super) env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The variable holding this merchant's API key (`apiKeyEnv`): values
    /// may not reference it or contain its value. Set with [`Ctx::set_key_env`].
    key_env: String,
    /// The value of `key_env`, when set and not blank, trimmed: looked up
    /// once, not for every value checked.
    key: Option<String>,
    /// The fleet merchant whose values are being checked (`None` outside
    /// a fleet file): messages about its `vars` name it.
    pub(super) merchant: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// A walk of `file`, whose paths `index` locates; the key variable is
    /// the default until `apiKeyEnv` is read.
    pub(super) fn new(
        file: &'a Path,
        index: &'a LineIndex,
        env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    ) -> Self {
        Ctx {
            file,
            index,
            env,
            key_env: DEFAULT_API_KEY_ENV.to_owned(),
            key: key_of(env, DEFAULT_API_KEY_ENV),
            merchant: None,
            diagnostics: Vec::new(),
        }
    }

    /// A walk of the same file with another environment lookup, the
    /// default key variable and no problems yet.
    pub(super) fn with_env<'b>(&self, env: &'b (dyn Fn(&str) -> Option<String> + Sync)) -> Ctx<'b>
    where
        'a: 'b,
    {
        Ctx::new(self.file, self.index, env)
    }

    /// A walk of the same file, merchant and key with no problems yet: for
    /// a share of the entries checked on another thread ([`Ctx::absorb`]
    /// takes its problems back).
    pub(super) fn fork(&self) -> Ctx<'a> {
        Ctx {
            file: self.file,
            index: self.index,
            env: self.env,
            key_env: self.key_env.clone(),
            key: self.key.clone(),
            merchant: self.merchant.clone(),
            diagnostics: Vec::new(),
        }
    }

    /// Appends the problems a [`Ctx::fork`] recorded.
    pub(super) fn absorb(&mut self, fork: Ctx<'_>) {
        self.diagnostics.extend(fork.diagnostics);
    }

    /// The variable holding this merchant's API key, and so the key.
    pub(super) fn set_key_env(&mut self, name: &str) {
        self.key = key_of(self.env, name);
        name.clone_into(&mut self.key_env);
    }

    /// The variable holding this merchant's API key.
    pub(super) fn key_env(&self) -> &str {
        &self.key_env
    }

    /// The merchant's API key (trimmed), when its variable is set.
    pub(super) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The file being walked.
    pub(super) fn file(&self) -> &Path {
        self.file
    }

    /// Every problem recorded, in the order found.
    pub(super) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Whether no problem was recorded.
    pub(super) fn is_clean(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// The 1-based line of a YAML path.
    pub(super) fn line(&self, path: &[Seg]) -> usize {
        self.index.line(path)
    }

    /// The location of a YAML path.
    pub(super) fn location(&self, path: &[Seg]) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line: self.index.line(path),
        }
    }

    /// Records a problem at the line of `path`.
    pub(super) fn error(&mut self, path: &[Seg], message: String, help: Option<String>) {
        let line = self.index.line(path);
        self.error_at(line, message, help);
    }

    /// Records a problem at `line`.
    pub(super) fn error_at(&mut self, line: usize, message: String, help: Option<String>) {
        let diagnostic = Diagnostic::new(self.file, line, message, help);
        self.diagnostics.push(diagnostic);
    }
}

/// The value of the key variable `name`, trimmed, unless unset or blank.
fn key_of(env: &(dyn Fn(&str) -> Option<String> + Sync), name: &str) -> Option<String> {
    env(name)
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
}

/// Names of known fields (a mapping's few): a list searched in order,
/// cheaper than hashing for a handful of names.
#[derive(Debug, Default)]
pub(super) struct FieldSet(Vec<&'static str>);

impl FieldSet {
    /// Whether `name` is in the set.
    pub(super) fn contains(&self, name: &str) -> bool {
        self.0.contains(&name)
    }

    /// Adds `name` (once).
    pub(super) fn insert(&mut self, name: &'static str) {
        if !self.contains(name) {
            self.0.push(name);
        }
    }

    /// The names, in the order added.
    pub(super) fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

/// A mapping deserialized field by field.
pub(super) struct Parsed<T> {
    /// The fields that were valid; the others are `None`.
    pub(super) value: T,
    /// Known fields present in the mapping, even with a bad value.
    pub(super) present: FieldSet,
    /// Fields already reported (a bad value, or the likely target of a
    /// misspelt key): they get no "missing" or "empty" errors.
    pub(super) reported: FieldSet,
}

impl<T> Parsed<T> {
    /// Present with a value that deserialized: worth checking further.
    pub(super) fn usable(&self, field: &str) -> bool {
        self.present.contains(field) && !self.reported.contains(field)
    }

    /// Absent, and not already explained by another error.
    pub(super) fn missing(&self, field: &str) -> bool {
        !self.present.contains(field) && !self.reported.contains(field)
    }
}

/// Deserializes `map` into `T` one field at a time: unknown keys and bad
/// values are reported (all of them) and left out; fields named in
/// `separate` are only marked present, their caller checks them.
pub(super) fn read_mapping<T: DeserializeOwned + Default>(
    ctx: &mut Ctx<'_>,
    map: &Mapping,
    path: &[Seg],
    fields: &'static [Field],
    what: &str,
    separate: &[&str],
) -> Parsed<T> {
    if let Some(parsed) = read_whole(map, fields, separate) {
        return parsed;
    }
    let mut parsed = Parsed {
        value: T::default(),
        present: FieldSet::default(),
        reported: FieldSet::default(),
    };
    let mut clean = Mapping::new();
    for (key, value) in map {
        let name = match key {
            Value::String(name) => name.clone(),
            Value::Number(_) | Value::Bool(_) => scalar_text(key),
            Value::Null => "null".to_owned(),
            other => {
                let message = format!("a field name must be plain text, found {}", kind(other));
                ctx.error(&child(path, Seg::key("")), message, Some(known_fields(fields)));
                continue;
            }
        };
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            unknown_field(ctx, path, &name, fields, what, &mut parsed.reported);
            continue;
        };
        parsed.present.insert(field.name);
        if separate.contains(&field.name) {
            continue;
        }
        let single: Mapping = [(key.clone(), value.clone())].into_iter().collect();
        if serde_yaml::from_value::<T>(Value::Mapping(single)).is_ok() {
            clean.insert(key.clone(), value.clone());
        } else {
            parsed.reported.insert(field.name);
            type_error(ctx, &child(path, Seg::key(field.name)), *field, value);
        }
    }
    match serde_yaml::from_value::<T>(Value::Mapping(clean)) {
        Ok(value) => parsed.value = value,
        // Each field deserialized alone, so this is not expected; still, no panic.
        Err(_) => ctx.error(path, format!("invalid {what}"), None),
    }
    parsed
}

/// [`read_mapping`] of a mapping whose keys are all known and read into
/// `T` (no `separate` field) and whose values all deserialize: one
/// deserialization of the whole mapping instead of one per field, the
/// same result. `None` for any other mapping, which is then read field
/// by field to find every problem.
fn read_whole<T: DeserializeOwned>(
    map: &Mapping,
    fields: &'static [Field],
    separate: &[&str],
) -> Option<Parsed<T>> {
    let mut present = FieldSet::default();
    for key in map.keys() {
        let field = fields.iter().find(|f| key.as_str() == Some(f.name))?;
        if separate.contains(&field.name) {
            return None;
        }
        present.insert(field.name);
    }
    let value = serde_yaml::from_value::<T>(Value::Mapping(map.clone())).ok()?;
    Some(Parsed {
        value,
        present,
        reported: FieldSet::default(),
    })
}

fn unknown_field(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    name: &str,
    fields: &'static [Field],
    what: &str,
    reported: &mut FieldSet,
) {
    let suggestion = closest(name, fields.iter().map(|f| (f.name, f.name)));
    let help = match suggestion {
        Some(known) => {
            reported.insert(known);
            format!("did you mean `{known}`?")
        }
        None => known_fields(fields),
    };
    let message = format!("unknown field `{}` in {what}", show(name));
    ctx.error(&child(path, Seg::key(name)), message, Some(help));
}

fn known_fields(fields: &[Field]) -> String {
    let known: Vec<String> = fields.iter().map(|f| format!("`{}`", f.name)).collect();
    format!("known fields: {}", known.join(", "))
}

/// Reports a value of the wrong type for `field`.
fn type_error(ctx: &mut Ctx<'_>, path: &[Seg], field: Field, value: &Value) {
    let name = field.name;
    let found = kind(value);
    if field.kind == Kind::Version && matches!(value, Value::Number(_)) {
        return version_error(ctx, &scalar_text(value));
    }
    if let (Kind::StrList, Value::Sequence(items)) = (field.kind, value) {
        let mut any = false;
        for (i, item) in items.iter().enumerate() {
            let (message, help) = match item {
                Value::String(_) => continue,
                Value::Null => (
                    format!("item {} of `{name}` is empty", i + 1),
                    "write a topic or remove the item",
                ),
                other => (
                    format!(
                        "item {} of `{name}` must be a string, found {}",
                        i + 1,
                        kind(other)
                    ),
                    "write a topic such as `customer.cancelled`",
                ),
            };
            any = true;
            ctx.error(&child(path, Seg::Index(i)), message, Some(help.to_owned()));
        }
        if any {
            return;
        }
    }
    let help = match (field.kind, value) {
        (Kind::Version, _) => "write `version: 1`".to_owned(),
        (Kind::Bool, _) => format!("write `{name}: true` or `{name}: false`, without quotes"),
        (Kind::Str, Value::Number(_) | Value::Bool(_)) => {
            format!(
                "put the value in quotes, e.g. `{name}: \"{}\"`",
                scalar_text(value)
            )
        }
        (Kind::StrList, _) => format!(
            "write `{name}: [customer.cancelled, customer.pending_cancellation]`, or `topic:` for one topic"
        ),
        _ => format!("`{name}` takes {}", field.kind.expected()),
    };
    let message = format!("`{name}` must be {}, found {found}", field.kind.expected());
    ctx.error(path, message, Some(help));
}

/// A scalar as YAML text (numbers, booleans, strings).
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Reports an unsupported manifest version (`found` as written).
pub(super) fn version_error(ctx: &mut Ctx<'_>, found: &str) {
    ctx.error(
        &[Seg::key("version")],
        format!("unsupported manifest version `{}`", show(found)),
        Some("this invhooks reads `version: 1` manifests".to_owned()),
    );
}

/// How messages describe the kind of a YAML value.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "an empty value",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
