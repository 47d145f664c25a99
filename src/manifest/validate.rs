//! The structural pass: walks serde_yaml's `Value`, checks the keys at
//! every level against the known fields of the [`raw`](super::raw) types,
//! and deserializes each field and each list entry on its own, so that one
//! bad value never hides another. Value checks live in
//! [`subscription`](super::subscription) and [`checks`](super::checks).

use std::collections::HashSet;
use std::path::Path;

use serde::de::value::MapDeserializer;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde_yaml::{Mapping, Value};

use super::checks::{self, code_point, hidden_char, show};
use super::expand::is_var_name;
use super::lines::{child, LineIndex, Seg};
use super::raw::{Field, Kind, RawManifest, DEFAULT_API_KEY_ENV, MANIFEST_FIELDS};
use super::subscription::{self, Options};
use super::Diagnostic;
use crate::model::{Location, MerchantManifest};
use crate::topic::closest;

/// What the walk needs: where it is and where problems go.
pub(super) struct Ctx<'a> {
    file: &'a Path,
    index: &'a LineIndex,
    /// Environment lookup for `${VAR}`.
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
    /// The variable holding this merchant's API key (`apiKeyEnv`): values
    /// may not reference it or contain its value.
    pub(super) key_env: String,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
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

/// A mapping deserialized field by field.
pub(super) struct Parsed<T> {
    /// The fields that were valid; the others are `None`.
    pub(super) value: T,
    /// Known fields present in the mapping, even with a bad value.
    pub(super) present: HashSet<&'static str>,
    /// Fields already reported (a bad value, or the likely target of a
    /// misspelt key): they get no "missing" or "empty" errors.
    pub(super) reported: HashSet<&'static str>,
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

/// Validates a parsed manifest. Returns it with the line of its
/// `merchant:` label (1 when defaulted), or every problem found.
pub(super) fn manifest(
    file: &Path,
    value: &Value,
    index: &LineIndex,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(MerchantManifest, usize), Vec<Diagnostic>> {
    let mut ctx = Ctx {
        file,
        index,
        env,
        diagnostics: Vec::new(),
        key_env: DEFAULT_API_KEY_ENV.to_owned(),
    };
    let map = match value {
        Value::Mapping(map) => map,
        Value::Null => return Err(vec![super::empty(file)]),
        other => {
            let message = format!("manifest must be a mapping of fields, found {}", kind(other));
            ctx.error_at(1, message, Some(super::HELP_STARTS_WITH.to_owned()));
            return Err(ctx.diagnostics);
        }
    };
    let lists = ["ignore", "subscriptions"];
    let top: Parsed<RawManifest> = read_mapping(&mut ctx, map, &[], MANIFEST_FIELDS, "manifest", &lists);
    check_version(&mut ctx, &top);
    let (label, label_line) = label(&mut ctx, file, &top);
    let api_key_env = api_key_env(&mut ctx, &top);
    ctx.key_env = api_key_env.clone();
    let options = Options {
        allow_http: top.value.allow_http.unwrap_or(false),
        allow_unknown_topics: top.value.allow_unknown_topics.unwrap_or(false),
    };
    let mut ignore = Vec::new();
    let rule_example = "`- name: \"zapier-*\"`";
    for (path, entry) in entries(
        &mut ctx,
        map,
        "ignore",
        "ignore rule",
        rule_example,
        MAX_IGNORE_RULES,
    ) {
        ignore.extend(checks::ignore_rule(&mut ctx, &path, entry));
    }
    let mut declared = Vec::new();
    let example = "`- name: crm-sync` with `topic:` and `callbackUrl:`";
    for (path, entry) in entries(
        &mut ctx,
        map,
        "subscriptions",
        "subscription",
        example,
        MAX_ENTRIES,
    ) {
        declared.extend(subscription::subscription(&mut ctx, &path, entry, options));
    }
    checks::cross(&mut ctx, &declared, &ignore);
    if !ctx.diagnostics.is_empty() {
        return Err(ctx.diagnostics);
    }
    let manifest = MerchantManifest {
        label,
        file: file.to_path_buf(),
        api_key_env,
        prune: top.value.prune.unwrap_or(true),
        ignore,
        subscriptions: declared.into_iter().map(|d| d.sub).collect(),
    };
    Ok((manifest, label_line))
}

fn check_version(ctx: &mut Ctx<'_>, top: &Parsed<RawManifest>) {
    let help = Some(super::HELP_STARTS_WITH.to_owned());
    if top.missing("version") {
        ctx.error_at(1, "missing `version`".to_owned(), help);
    } else if top.usable("version") {
        match top.value.version {
            Some(1) => {}
            Some(n) => version_error(ctx, &n.to_string()),
            None => ctx.error(&[Seg::key("version")], "`version` is empty".to_owned(), help),
        }
    }
}

fn version_error(ctx: &mut Ctx<'_>, found: &str) {
    ctx.error(
        &[Seg::key("version")],
        format!("unsupported manifest version `{}`", show(found)),
        Some("this invhooks reads `version: 1` manifests".to_owned()),
    );
}

/// The merchant label (default: the file stem) and its line.
fn label(ctx: &mut Ctx<'_>, file: &Path, top: &Parsed<RawManifest>) -> (String, usize) {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "manifest".to_owned());
    if !top.usable("merchant") {
        return (stem, 1);
    }
    let path = [Seg::key("merchant")];
    let label = top.value.merchant.clone().unwrap_or_default();
    if label.trim().is_empty() {
        let help = format!("give a label, or remove `merchant:` to use the file name `{stem}`");
        ctx.error(&path, "`merchant` is empty".to_owned(), Some(help));
    } else if label.chars().any(char::is_control) {
        let message = "`merchant` contains a control character".to_owned();
        ctx.error(&path, message, Some("remove it".to_owned()));
    } else if let Some(c) = hidden_char(&label) {
        let message = format!(
            "`merchant` contains the invisible or text-direction character {}",
            code_point(c)
        );
        ctx.error(&path, message, Some(subscription::HIDDEN_HELP.to_owned()));
    }
    (label, ctx.index.line(&path))
}

/// The environment variable holding the API key (default
/// `INVETERATE_API_KEY`).
fn api_key_env(ctx: &mut Ctx<'_>, top: &Parsed<RawManifest>) -> String {
    let Some(name) = top.value.api_key_env.clone() else {
        return DEFAULT_API_KEY_ENV.to_owned();
    };
    if !is_var_name(&name) {
        let message = format!(
            "`apiKeyEnv` `{}` is not a valid environment variable name",
            show(&name)
        );
        let help = "use letters, digits and `_`, not starting with a digit, e.g. `INVETERATE_API_KEY_EU`";
        ctx.error(&[Seg::key("apiKeyEnv")], message, Some(help.to_owned()));
    }
    name
}

/// Most `subscriptions` entries in one manifest. A merchant has a few
/// dozen; the bound keeps a hostile manifest's validation time and memory
/// bounded while leaving room for very large deployments (ignore rules
/// are matched as one compiled set, so the cost is linear in entries).
const MAX_ENTRIES: usize = 100_000;
/// Most `ignore` rules in one manifest.
const MAX_IGNORE_RULES: usize = 1_000;

/// The entries of the list under `key` that are mappings, with their
/// paths; anything else is reported. A list longer than `max` is one
/// error, its entries unchecked.
fn entries<'v>(
    ctx: &mut Ctx<'_>,
    map: &'v Mapping,
    key: &str,
    noun: &str,
    example: &str,
    max: usize,
) -> Vec<(Vec<Seg>, &'v Mapping)> {
    let path = vec![Seg::key(key)];
    let mut found = Vec::new();
    match map.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) if items.len() > max => ctx.error(
            &path,
            format!("`{key}` has {} entries; at most {max} are supported", items.len()),
            Some("a manifest holds one merchant's subscriptions, usually a few dozen; check that -f names the right file".to_owned()),
        ),
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = child(&path, Seg::Index(i));
                match item {
                    Value::Mapping(entry) => found.push((item_path, entry)),
                    other => ctx.error(
                        &item_path,
                        format!("{noun} must be a mapping, found {}", kind(other)),
                        Some(format!("write each {noun} as a mapping, e.g. {example}")),
                    ),
                }
            }
        }
        Some(other) => ctx.error(
            &path,
            format!("`{key}` must be a list, found {}", kind(other)),
            Some(format!("write one entry per {noun}, e.g. {example}")),
        ),
    }
    found
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
    let mut parsed = Parsed {
        value: T::default(),
        present: HashSet::new(),
        reported: HashSet::new(),
    };
    if let Some(whole) = read_whole(map, fields, separate) {
        parsed.value = whole;
        parsed.present = map
            .keys()
            .filter_map(|key| fields.iter().find(|f| Some(f.name) == key.as_str()))
            .map(|f| f.name)
            .collect();
        return parsed;
    }
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

/// The fast path of [`read_mapping`], for the common case of a mapping
/// that is entirely valid: every key a known field not handled
/// separately, and the whole mapping deserializing at once (which implies
/// each field alone does). Read in place, without copying the mapping.
/// `None` sends the caller down the field-by-field path, which reports.
fn read_whole<T: DeserializeOwned>(map: &Mapping, fields: &[Field], separate: &[&str]) -> Option<T> {
    let all_known = map.keys().all(|key| {
        key.as_str()
            .is_some_and(|name| !separate.contains(&name) && fields.iter().any(|f| f.name == name))
    });
    if !all_known {
        return None;
    }
    let entries = map.iter().map(|(key, value)| (ByRef(key), ByRef(value)));
    // A derived struct visitor reads the map to its end, so nothing is left over.
    T::deserialize(MapDeserializer::<_, serde_yaml::Error>::new(entries)).ok()
}

/// A borrowed YAML value handed to serde's [`MapDeserializer`].
struct ByRef<'v>(&'v Value);

impl<'v> IntoDeserializer<'v, serde_yaml::Error> for ByRef<'v> {
    type Deserializer = &'v Value;

    fn into_deserializer(self) -> &'v Value {
        self.0
    }
}

fn unknown_field(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    name: &str,
    fields: &'static [Field],
    what: &str,
    reported: &mut HashSet<&'static str>,
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
