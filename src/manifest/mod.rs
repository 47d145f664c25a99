//! Manifest files → [`MerchantManifest`]s: reading, YAML parsing, `${VAR}`
//! expansion and validation, with every problem of every file reported at
//! once as a [`Diagnostic`] that names `file:line`.
//!
//! Pure apart from reading files: the environment is injected. The pieces:
//! [`files`] (finding and reading files), [`yaml`] (text → YAML value and
//! line index, in one parse by [`events`]), [`raw`] (serde/schemars types, the source of truth for
//! field names and the JSON Schema), [`lines`] (YAML path → line),
//! [`expand`] (`${VAR}`), [`read`] (a mapping read field by field, and
//! where problems go), [`validate`] (structure), then [`subscription`] and
//! [`checks`] (values), and [`across`] (checks across files). Imports flow
//! one way; ARCHITECTURE.md draws the graph.

mod across;
mod checks;
mod diagnostic;
pub mod early;
mod events;
mod expand;
mod export;
mod export_fleet;
mod export_template;
mod files;
mod fleet;
mod lines;
mod names;
mod raw;
mod read;
mod renamed;
mod subscription;
mod tabs;
mod validate;
mod yaml;

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

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

pub use across::same_store;
use diagnostic::Anchors;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use export::{as_written, problems_by_entry, to_manifest, Exported};
pub use export_fleet::{to_fleet, FleetError, StoreArg, StoreLive};

use crate::model::MerchantManifest;

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
    let mut loaded: Vec<(MerchantManifest, Anchors)> = Vec::new();
    for file in files::manifest_files(paths, &mut diagnostics) {
        let identity = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if !seen.insert(identity) {
            continue;
        }
        let result = files::read_file(&file).and_then(|text| load_with_anchors(&file, &text, env));
        match result {
            Ok(mut manifests) => loaded.append(&mut manifests),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    diagnostics.extend(across::other_merchants_keys(&loaded, env));
    diagnostics.extend(across::duplicate_labels(&loaded));
    diagnostics.extend(across::same_key_variable(&loaded));
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
    load_with_anchors(file, text, env)
        .map(|all| all.into_iter().map(|(manifest, _)| manifest).collect())
        .map_err(Diagnostics)
}

/// The manifest's JSON Schema (draft 2020-12), generated with schemars from
/// the same serde types the loader uses; `invhooks schema` prints it for
/// editors (yaml-language-server) and CI.
pub fn schema() -> serde_json::Value {
    raw::schema()
}

/// [`load_str_all`], also returning where the merchant-wide fields are,
/// for the checks across files.
fn load_with_anchors(
    file: &Path,
    text: &str,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Vec<(MerchantManifest, Anchors)>, Vec<Diagnostic>> {
    let (value, index) = yaml::parse(file, text)?;
    let validated = validate::manifest(file, &value, &index, env, fleet::manifests);
    yaml::release(value, index, text.len());
    validated.map_err(|mut diagnostics| {
        diagnostics.sort_by_key(|d| d.location.line);
        diagnostics
    })
}
