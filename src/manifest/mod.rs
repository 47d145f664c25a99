//! Manifest files → [`MerchantManifest`]s, every problem of every file at once
//! as a [`Diagnostic`] naming `file:line` (line 0: the file itself), and the
//! checks across files. Pure apart from reading files: the environment is injected.

pub(crate) mod context;
mod expand;
mod export;
mod fields;
mod subscription;
mod validate;
pub(crate) mod yaml;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::hash::Hash;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use context::{Ctx, Env};
pub use export::{as_written, to_fleet, to_manifest, Exported, FleetError, StoreArg, StoreLive};
pub use fields::DEFAULT_API_KEY_ENV;
pub use subscription::callback_url_problem;
use validate::{MerchantLines, HELP_STARTS_WITH};
use yaml::Value;

use crate::model::{Location, MerchantManifest};

/// Loads every manifest `paths` names (files, or directories' `*.yaml`), each file once, sorted by label.
pub fn load_paths(paths: &[PathBuf], env: Env<'_>) -> Result<Vec<MerchantManifest>, Diagnostics> {
    let (mut diagnostics, mut seen, mut loaded) = (Vec::new(), HashSet::new(), Vec::new());
    for file in manifest_files(paths, &mut diagnostics) {
        if !seen.insert(fs::canonicalize(&file).unwrap_or_else(|_| file.clone())) {
            continue;
        }
        match read_file(&file).and_then(|text| load_with_lines(&file, &text, env)) {
            Ok(mut manifests) => loaded.append(&mut manifests),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    diagnostics.extend(other_merchants_keys(&loaded, env));
    diagnostics.extend(repeated_merchants(&loaded));
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let mut manifests: Vec<MerchantManifest> = loaded.into_iter().map(|(m, _)| m).collect();
    manifests.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(manifests)
}

const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
const HELP_PASS_FILE: &str = "pass the manifest with -f PATH";

/// The files `paths` name, directories expanded to their `*.yaml` / `*.yml` files sorted by name.
fn manifest_files(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path).map(|meta| meta.is_dir()) {
            Ok(true) => match dir_manifests(path) {
                Ok(found) if found.is_empty() => {
                    let dir = path.display();
                    let message = format!("directory `{dir}` contains no `*.yaml` or `*.yml` manifest");
                    diagnostics.push(Diagnostic::new(path, 0, message, HELP_PASS_FILE));
                }
                Ok(mut found) => files.append(&mut found),
                Err(error) => diagnostics.push(io_error(path, "directory", &error)),
            },
            Ok(false) => files.push(path.clone()),
            Err(error) => diagnostics.push(io_error(path, "manifest", &error)),
        }
    }
    files
}

fn dir_manifests(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir)?.map(|entry| entry.map(|e| e.path()));
    let mut found = entries.collect::<std::io::Result<Vec<_>>>()?;
    found.retain(|path| path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") && path.is_file());
    found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(found)
}

/// The whole of `path`, or a `FileTooLarge` error if it holds more than `max` bytes.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        let message = format!("larger than {} MiB", max >> 20);
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, message));
    }
    Ok(bytes)
}

/// Reads a manifest: at most [`MAX_FILE_BYTES`], UTF-8.
fn read_file(file: &Path) -> Result<String, Vec<Diagnostic>> {
    let bytes = read_capped(file, MAX_FILE_BYTES).map_err(|error| match error.kind() {
        std::io::ErrorKind::FileTooLarge => {
            let message = format!("manifest `{}` is larger than 8 MiB", file.display());
            let help = "a manifest is a short list of subscriptions; check that -f names the right file";
            vec![Diagnostic::new(file, 1, message, help)]
        }
        _ => vec![io_error(file, "manifest", &error)],
    })?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        let name = file.display();
        let message =
            format!("manifest `{name}` is not valid UTF-8 (its first invalid byte is on this line)");
        vec![Diagnostic::new(file, line, message, "save the file as UTF-8")]
    })
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> Diagnostic {
    if error.kind() != std::io::ErrorKind::NotFound {
        let message = format!("cannot read {what} `{}`: {}", path.display(), error.kind());
        return Diagnostic::new(path, 0, message, "");
    }
    let help = match near_name(path) {
        Some(near) => format!("did you mean `{}`?", near.display()),
        None => HELP_PASS_FILE.to_owned(),
    };
    let message = format!("cannot read `{}`: no such file", path.display());
    Diagnostic::new(path, 0, message, help)
}

/// A manifest beside the missing `path` with a name close to its own (`webhook.yaml`).
fn near_name(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|d| !d.as_os_str().is_empty());
    let found = dir_manifests(parent.unwrap_or(Path::new("."))).ok()?;
    let names = found.iter().filter_map(|f| Some((f.file_name()?.to_str()?, f)));
    let near = crate::topic::closest(name, names)?.file_name()?;
    Some(parent.map_or_else(|| PathBuf::from(near), |parent| parent.join(near)))
}

/// Parses and validates one file's text, which must declare one merchant.
pub fn load_str(file: &Path, text: &str, env: Env<'_>) -> Result<MerchantManifest, Diagnostics> {
    let mut all = load_str_all(file, text, env)?;
    if all.len() != 1 {
        let message = format!("`{}` declares {} merchants, not one", file.display(), all.len());
        let help = "load it with the other manifests (`-f`), which reads every merchant of a fleet file";
        return Err(Diagnostics(vec![Diagnostic::new(file, 1, message, help)]));
    }
    Ok(all.remove(0))
}

/// Parses and validates one file's text: each merchant, in file order.
pub fn load_str_all(file: &Path, text: &str, env: Env<'_>) -> Result<Vec<MerchantManifest>, Diagnostics> {
    let all = load_with_lines(file, text, env).map_err(Diagnostics)?;
    Ok(all.into_iter().map(|(manifest, _)| manifest).collect())
}

/// The problems of `yaml` ([`to_manifest`]'s or [`as_written`]'s), each with the
/// index of its `subscriptions` entry (`None`: outside the list).
pub fn problems_by_entry(file: &Path, yaml: &str) -> Vec<(Option<usize>, Diagnostic)> {
    let Err(found) = load_str_all(file, yaml, &|_| None) else {
        return Vec::new();
    };
    let parsed = yaml::parse::<fields::Manifest>(file, yaml)
        .ok()
        .and_then(|Value(m)| m.ok());
    let list = parsed.as_ref().and_then(|m| m.subscriptions.as_ref()?.ok());
    let starts: Vec<usize> = list.into_iter().flatten().map(|at| at.line).collect();
    let entry = |d: &Diagnostic| starts.iter().rposition(|&line| line <= d.location.line);
    found.0.into_iter().map(|d| (entry(&d), d)).collect()
}

/// The manifest's JSON Schema (draft 2020-12), from the types the loader reads.
pub fn schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<fields::Manifest>().to_value()
}

/// [`load_str_all`], with the lines of each merchant's label and key variable.
fn load_with_lines(file: &Path, text: &str, env: Env<'_>) -> validate::Validated {
    let empty = format!("manifest `{}` is empty", file.display());
    let manifest: fields::Manifest = context::document(file, text, empty, "manifest", HELP_STARTS_WITH)?;
    let mut ctx = Ctx::new(file, env);
    match validate::top(&mut ctx, &manifest) {
        None => Err(ctx.into_problems()),
        Some(base) => validate::manifests(ctx, &manifest, base),
    }
}

/// Help when two manifests would manage one store.
const ONE_STORE: &str =
    "one key is one store, so each manifest would delete the other's subscriptions as unmanaged";

/// Each item whose key an earlier item has, with the first that has it.
fn repeats<'a, T, K: Eq + Hash>(items: &'a [T], key: impl Fn(&'a T) -> Option<K>) -> Vec<(&'a T, &'a T)> {
    let mut first = HashMap::new();
    let mut repeated = Vec::new();
    for item in items {
        let Some(k) = key(item) else { continue };
        match first.entry(k) {
            Entry::Occupied(earlier) => repeated.push((*earlier.get(), item)),
            Entry::Vacant(slot) => _ = slot.insert(item),
        }
    }
    repeated
}

/// Two manifests with one merchant label, or one key variable: at the later one's `merchant:` or `apiKeyEnv:`.
fn repeated_merchants(loaded: &[(MerchantManifest, MerchantLines)]) -> Vec<Diagnostic> {
    let labels = repeats(loaded, |(m, _)| Some(&m.label))
        .into_iter()
        .map(|((first, at), (m, lines))| {
            let message = format!("merchant `{}` is declared by two manifests", m.label);
            let there = format!("{}:{}", first.file.display(), at.label);
            let help = format!("also declared by {there}; give each file its own `merchant:` label");
            Diagnostic::new(&m.file, lines.label, message, help)
        });
    let keys = repeats(loaded, |(m, _)| Some(&m.api_key_env)).into_iter().map(|((first, at), (m, lines))| {
        let (label, var) = (&first.label, &m.api_key_env);
        let how = lines.api_key_env.map_or(" (the default)", |_| "");
        let message = format!("merchants `{label}` and `{}` both read their API key from `{var}`{how}", m.label);
        let there = format!("{}:{}", first.file.display(), at.api_key_env.unwrap_or(1));
        let help = format!("`{label}` reads it at {there}; {ONE_STORE}: give each manifest its own `apiKeyEnv`, or declare the subscriptions in one manifest");
        Diagnostic::new(&m.file, lines.api_key_env.unwrap_or(1), message, help)
    });
    labels.chain(keys).collect()
}

/// Manifests whose keys are one key under two variables (by SHA-256, never kept or shown).
pub fn same_store(manifests: &[MerchantManifest], key_of: Env<'_>) -> Vec<Diagnostic> {
    let digest = |m: &MerchantManifest| {
        let key = key_of(&m.api_key_env).filter(|k| !k.trim().is_empty())?;
        Some(<[u8; 32]>::from(Sha256::digest(key.trim().as_bytes())))
    };
    let pairs = repeats(manifests, digest)
        .into_iter()
        .filter(|(a, b)| a.api_key_env != b.api_key_env);
    let found = pairs.map(|(other, m)| {
        let (a, b, label, file) = (&other.api_key_env, &m.api_key_env, &other.label, other.file.display());
        let message = format!(
            "merchants `{label}` and `{}` use the same API key (`{a}` and `{b}` hold the same value)",
            m.label
        );
        let help = format!("{ONE_STORE}: set each variable to its merchant's own key, or declare the subscriptions in one manifest (`{file}`)");
        Diagnostic::new(&m.file, 1, message, help)
    });
    found.collect()
}

/// Subscriptions whose name or URL holds another merchant's API key (its own is refused earlier).
fn other_merchants_keys(loaded: &[(MerchantManifest, MerchantLines)], env: Env<'_>) -> Vec<Diagnostic> {
    let (vars, keys): (Vec<&str>, Vec<String>) = loaded
        .iter()
        .filter_map(|(m, _)| Some((m.api_key_env.as_str(), env(&m.api_key_env)?.trim().to_owned())))
        .filter(|(_, key)| !key.is_empty())
        .unzip();
    if keys.is_empty() || loaded.len() < 2 {
        return Vec::new();
    }
    // Building fails only past size limits far beyond any fleet: then one key at a time.
    let automaton = aho_corasick::AhoCorasick::new(&keys).ok();
    let position = |text: &str| match &automaton {
        Some(automaton) => automaton.find(text).map(|hit| hit.pattern().as_usize()),
        None => keys.iter().position(|key| text.contains(key.as_str())),
    };
    let help = "the API key must never leave the API request header; use another variable";
    let mut found = Vec::new();
    for sub in loaded.iter().flat_map(|(m, _)| &m.subscriptions) {
        let Some(var) = position(&sub.name).or_else(|| position(&sub.callback_url)) else {
            continue;
        };
        let (topic, var, at) = (&sub.topic, vars[var], &sub.location);
        let message = format!("a subscription on `{topic}` would contain an API key (the value of `{var}`)");
        found.push(Diagnostic::new(&at.file, at.line, message, help));
    }
    found
}

/// What to say wherever an API key may have been written into a manifest.
const KEY_NEVER_HERE: &str =
    "an API key never goes in a manifest: if one was pasted here, remove it and rotate the key";

/// One problem in a manifest, where it is and, when there is one, how to fix it (serde: in
/// `validate --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// File and 1-based line (1: the content as a whole; 0: the file itself cannot be read).
    #[serde(flatten, serialize_with = "file_line_severity")]
    pub location: Location,
    /// Lowercase start, no trailing period, literal values in backticks, never a variable's value.
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An empty `help` is none.
    pub(crate) fn new(file: &Path, line: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        let file = file.to_path_buf();
        let help = Some(help.into()).filter(|help| !help.is_empty());
        let (location, message) = (Location { file, line }, message.into());
        Diagnostic {
            location,
            message,
            help,
        }
    }
}

/// `file`, `line` (null for 0: the file itself) and `severity` of a problem in JSON.
fn file_line_severity<S: Serializer>(at: &Location, s: S) -> Result<S::Ok, S::Error> {
    let (file, line) = (at.file.display().to_string(), (at.line > 0).then_some(at.line));
    serde_json::json!({ "file": file, "line": line, "severity": "error" }).serialize(s)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location.line {
            0 => write!(f, "error: {}", self.message)?,
            _ => write!(f, "error: {}: {}", self.location, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found while loading manifests, in file order, then line order.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// Most diagnostics displayed: a hostile file's hundreds of thousands would only flood a CI log.
const MAX_SHOWN: usize = 200;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().take(MAX_SHOWN).enumerate() {
            let sep = if i > 0 { "\n" } else { "" };
            write!(f, "{sep}{diagnostic}")?;
        }
        if self.0.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems not shown", self.0.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_export_fleet;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_fleet;
#[cfg(test)]
mod tests_names;
#[cfg(test)]
mod tests_renames;
#[cfg(test)]
mod tests_values;
#[cfg(test)]
mod tests_yaml;
