//! Manifest files → [`MerchantManifest`]s: reading, YAML parsing, `${VAR}`
//! expansion and validation, with every problem of every file reported at
//! once as a [`Diagnostic`] that names `file:line`; and the checks across
//! the files loaded together (labels, key variables, keys in values).
//!
//! Pure apart from reading files: the environment is injected. The pieces,
//! in the order a file goes through them: [`files`] (finding and reading
//! files), [`yaml`] (text → typed values with lines, bounded), [`fields`]
//! (the manifest's types: each field once, for reading, the JSON Schema
//! and messages), [`validate`] (one merchant: top level, `ignore`, checks
//! across entries) or [`fleet`] (a `merchants:` file), [`subscription`]
//! (one entry's values), [`expand`] (`${VAR}`), [`look_alike`] (names that
//! only look equal). Imports flow one way; ARCHITECTURE.md draws the graph.

mod context;
mod diagnostic;
mod expand;
mod export;
mod export_fleet;
mod export_template;
mod fields;
mod files;
mod fleet;
mod look_alike;
pub(crate) mod record;
mod subscription;
mod validate;
pub(crate) mod yaml;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use diagnostic::MerchantLines;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use export::{as_written, problems_by_entry, to_manifest, Exported};
pub use export_fleet::{to_fleet, FleetError, StoreArg, StoreLive};
use yaml::Found;

use crate::model::{Location, MerchantManifest};

/// What `validate` says of callback URL `url` (its problem and what to
/// do), or `None` when a manifest can hold it; with `allow_http`, as under
/// `allowHttp: true` (what `export` writes for a plain-http live URL).
/// `doctor` checks live URLs and its `--callback-url` with it.
pub fn callback_url_problem(url: &str, allow_http: bool) -> Option<(String, String)> {
    let options = subscription::Options {
        allow_http,
        allow_unknown_topics: true,
    };
    subscription::url_problem(url, options)
}

/// Loads every manifest named by `paths` (files, or directories: every
/// `*.yaml` / `*.yml` directly inside, sorted by name). `env` looks up
/// environment variables (injected for tests; the CLI passes
/// `std::env::var(name).ok()`). The same file named twice is loaded once.
///
/// Returns the merchants sorted by label.
///
/// # Errors
///
/// Every problem found in every file (a file that cannot be read, invalid
/// YAML, invalid values), two files that declare the same merchant label,
/// and two files that read their key from the same variable (one key is
/// one store: each would delete the other's subscriptions).
pub fn load_paths(
    paths: &[PathBuf],
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Vec<MerchantManifest>, Diagnostics> {
    let mut diagnostics = Vec::new();
    let mut seen = HashSet::new();
    let mut loaded: Vec<(MerchantManifest, MerchantLines)> = Vec::new();
    for file in files::manifest_files(paths, &mut diagnostics) {
        let identity = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if !seen.insert(identity) {
            continue;
        }
        match files::read_file(&file).and_then(|text| load_with_lines(&file, &text, env)) {
            Ok(mut manifests) => loaded.append(&mut manifests),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    diagnostics.extend(other_merchants_keys(&loaded, env));
    diagnostics.extend(duplicate_labels(&loaded));
    diagnostics.extend(same_key_variable(&loaded));
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let mut manifests: Vec<MerchantManifest> = loaded.into_iter().map(|(m, _)| m).collect();
    manifests.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(manifests)
}

/// Parses and validates one file's text (pure; `file` is only used for
/// locations and the default label). A fleet file (`merchants:`) must
/// declare exactly one merchant here; [`load_str_all`] reads any.
///
/// # Errors
///
/// Every problem found in the text, in line order.
pub fn load_str(
    file: &Path,
    text: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<MerchantManifest, Diagnostics> {
    let mut all = load_str_all(file, text, env)?;
    if all.len() != 1 {
        let message = format!("`{}` declares {} merchants, not one", file.display(), all.len());
        let help = "load it with the other manifests (`-f`), which reads every merchant of a fleet file";
        return Err(Diagnostics(vec![Diagnostic::new(
            file,
            1,
            message,
            Some(help.to_owned()),
        )]));
    }
    Ok(all.remove(0))
}

/// Parses and validates one file's text: its merchant, or each merchant
/// of a fleet file (README.md "Fleet files"), in file order. Checks
/// across merchants (labels, key variables) are [`load_paths`]'s.
///
/// # Errors
///
/// Every problem found in the text, in line order.
pub fn load_str_all(
    file: &Path,
    text: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Vec<MerchantManifest>, Diagnostics> {
    load_with_lines(file, text, env)
        .map(|all| all.into_iter().map(|(manifest, _)| manifest).collect())
        .map_err(Diagnostics)
}

/// The manifest's JSON Schema (draft 2020-12), generated with schemars from
/// the same types the loader reads; `invhooks schema` prints it for
/// editors (yaml-language-server) and CI.
pub fn schema() -> serde_json::Value {
    fields::schema()
}

/// [`load_str_all`], also returning the lines of the merchant-wide
/// fields, for the checks across files.
fn load_with_lines(
    file: &Path,
    text: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Vec<(MerchantManifest, MerchantLines)>, Vec<Diagnostic>> {
    let parsed = yaml::parse::<fields::Manifest>(file, text).map_err(|d| vec![d])?;
    let manifest = match parsed.0 {
        Ok(manifest) => manifest,
        Err(Found::Empty) => return Err(vec![diagnostic::empty(file)]),
        Err(other) => {
            let message = format!("manifest must be a mapping of fields, found {}", other.kind());
            let help = diagnostic::HELP_STARTS_WITH.to_owned();
            return Err(vec![Diagnostic::new(file, 1, message, Some(help))]);
        }
    };
    let mut ctx = context::Ctx::new(file, env);
    let validated = match validate::top(&mut ctx, &manifest) {
        None => Err(ctx.into_diagnostics()),
        Some(shared) if manifest.merchants.is_some() => fleet::manifests(ctx, &manifest, shared),
        Some(shared) => validate::merchant(ctx, &manifest, shared),
    };
    validated.map_err(|mut diagnostics| {
        diagnostics.sort_by_key(|d| d.location.line);
        diagnostics
    })
}

/// Help when two manifests would manage one store.
const ONE_STORE: &str =
    "one key is one store, so each manifest would delete the other's subscriptions as unmanaged";

/// Two manifests that declare the same merchant label, at the line of
/// each one's `merchant:` (1 when it is the file's stem).
fn duplicate_labels(loaded: &[(MerchantManifest, MerchantLines)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut labels: HashMap<&str, Location> = HashMap::new();
    for (manifest, lines) in loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: lines.label,
        };
        match labels.get(manifest.label.as_str()) {
            Some(first) => found.push(Diagnostic {
                location: here,
                message: format!("merchant `{}` is declared by two manifests", manifest.label),
                help: Some(format!(
                    "also declared by {first}; give each file its own `merchant:` label"
                )),
            }),
            None => {
                labels.insert(&manifest.label, here);
            }
        }
    }
    found
}

/// Two manifests that read their key from the same variable (`apiKeyEnv`,
/// or both the default), at the line of each one's `apiKeyEnv:` (the file
/// when it is defaulted).
fn same_key_variable(loaded: &[(MerchantManifest, MerchantLines)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut first: HashMap<&str, (&str, Location)> = HashMap::new();
    for (manifest, lines) in loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: lines.api_key_env.unwrap_or(1),
        };
        let var = manifest.api_key_env.as_str();
        let Some((label, there)) = first.get(var) else {
            first.insert(var, (&manifest.label, here));
            continue;
        };
        let how = if lines.api_key_env.is_some() {
            ""
        } else {
            " (the default)"
        };
        found.push(Diagnostic {
            location: here,
            message: format!(
                "merchants `{label}` and `{}` both read their API key from `{var}`{how}",
                manifest.label
            ),
            help: Some(format!(
                "`{label}` reads it at {there}; {ONE_STORE}: give each manifest its own `apiKeyEnv`, or declare the subscriptions in one manifest"
            )),
        });
    }
    found
}

/// Manifests whose keys are the same key under different variables:
/// `key_of` reads a variable (the caller passes its environment lookup),
/// and keys are compared by their SHA-256, never kept or shown. Pure; for
/// the online check before any request (the same variable twice is
/// already refused by [`load_paths`]). Each pair is one
/// diagnostic at the later manifest's file.
pub fn same_store(
    manifests: &[MerchantManifest],
    key_of: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut first: HashMap<[u8; 32], &MerchantManifest> = HashMap::new();
    for manifest in manifests {
        let Some(key) = key_of(&manifest.api_key_env).filter(|k| !k.trim().is_empty()) else {
            continue;
        };
        let digest: [u8; 32] = Sha256::digest(key.trim().as_bytes()).into();
        let Some(other) = first.get(&digest) else {
            first.insert(digest, manifest);
            continue;
        };
        if other.api_key_env == manifest.api_key_env {
            continue;
        }
        found.push(Diagnostic {
            location: Location {
                file: manifest.file.clone(),
                line: 1,
            },
            message: format!(
                "merchants `{}` and `{}` use the same API key (`{}` and `{}` hold the same value)",
                other.label, manifest.label, other.api_key_env, manifest.api_key_env
            ),
            help: Some(format!(
                "{ONE_STORE}: set each variable to its merchant's own key, or declare the subscriptions in one manifest (`{}`)",
                other.file.display()
            )),
        });
    }
    found
}

/// Subscriptions whose name or URL contains another merchant's API key
/// (each file's own key is refused while it is validated). One automaton
/// over every key searches each text once, however many merchants there
/// are.
fn other_merchants_keys(
    loaded: &[(MerchantManifest, MerchantLines)],
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Vec<Diagnostic> {
    let (vars, keys): (Vec<&str>, Vec<String>) = loaded
        .iter()
        .filter_map(|(m, _)| Some((m.api_key_env.as_str(), env(&m.api_key_env)?.trim().to_owned())))
        .filter(|(_, key)| !key.is_empty())
        .unzip();
    // A file's own key is refused while it is validated: with one merchant
    // there is no other key to look for.
    if keys.is_empty() || loaded.len() < 2 {
        return Vec::new();
    }
    // Building fails only past size limits far beyond any fleet; then
    // each key is searched for in turn.
    let automaton = aho_corasick::AhoCorasick::new(&keys).ok();
    let position = |text: &str| match &automaton {
        Some(automaton) => automaton.find(text).map(|hit| hit.pattern().as_usize()),
        None => keys.iter().position(|key| text.contains(key.as_str())),
    };
    let mut found = Vec::new();
    for (m, _) in loaded {
        for sub in &m.subscriptions {
            let leaked = [&sub.name, &sub.callback_url]
                .into_iter()
                .find_map(|text| position(text));
            if let Some(var) = leaked.and_then(|i| vars.get(i)) {
                found.push(Diagnostic {
                    location: sub.location.clone(),
                    message: format!(
                        "a subscription on `{}` would contain an API key (the value of `{var}`)",
                        sub.topic
                    ),
                    help: Some(
                        "the API key must never leave the API request header; use another variable"
                            .to_owned(),
                    ),
                });
            }
        }
    }
    found
}

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
