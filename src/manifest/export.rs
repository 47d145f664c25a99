//! Live subscriptions as a manifest (`invhooks export`): a stable order,
//! duplicates left out, `${` escaped, so that `plan` on the output reports
//! no changes. Pure: the command fetches and writes. The document types
//! and the per-store reading are shared with [`export_fleet`](super::export_fleet).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::LiveSubscription;
use crate::secret::{has_secret, mask_url};

/// The document `export` writes: one merchant (top-level `merchant`,
/// `apiKeyEnv`) or a fleet (`merchants`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    pub(super) version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) merchant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) api_key_env: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) merchants: Vec<FleetMerchant>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) allow_http: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) allow_unknown_topics: bool,
    pub(super) subscriptions: Vec<Entry>,
}

/// One entry of a fleet file's `merchants`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FleetMerchant {
    pub(super) merchant: String,
    pub(super) api_key_env: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) vars: BTreeMap<String, String>,
}

/// One subscription entry, its values as written (escaped).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) topic: String,
    pub(super) callback_url: String,
}

/// A manifest made from live subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The YAML text.
    pub yaml: String,
    /// Subscriptions in it (duplicates are left out).
    pub written: usize,
    /// The live id behind each entry of `subscriptions`, in order (one
    /// merchant's export; empty for a fleet's shared list).
    pub ids: Vec<String>,
    /// What to tell the user: duplicates left out, URLs with secrets.
    pub warnings: Vec<String>,
}

/// The manifest of `live` (sorted by topic, name, id), for `merchant`
/// reading its key from `api_key_env`.
///
/// # Errors
///
/// None in practice: the document is plain strings and booleans.
pub fn to_manifest(
    live: &[LiveSubscription],
    merchant: Option<String>,
    api_key_env: &str,
) -> Result<Exported, serde_saphyr::SerializeError> {
    let (kept, warnings) = kept(live, None);
    let manifest = Manifest {
        version: 1,
        merchant,
        api_key_env: (api_key_env != "INVETERATE_API_KEY").then(|| api_key_env.to_owned()),
        merchants: Vec::new(),
        allow_http: allow_http(live),
        allow_unknown_topics: allow_unknown_topics(live),
        subscriptions: kept
            .iter()
            .map(|sub| Entry {
                name: escape(&sub.name),
                topic: sub.topic.clone(),
                callback_url: escape(&sub.callback_url),
            })
            .collect(),
    };
    let mut exported = document(&manifest, warnings)?;
    exported.ids = kept.iter().map(|sub| sub.id.clone()).collect();
    Ok(exported)
}

/// `manifest`'s label, key variable, switches and entries as a manifest
/// document, for checking values that did not come from a file (a saved
/// plan's) with the one validator ([`super::load_str_all`]); entries in
/// order, one per subscription.
///
/// # Errors
///
/// None in practice: the document is plain strings and booleans.
pub fn as_written(manifest: &crate::model::MerchantManifest) -> Result<String, serde_saphyr::SerializeError> {
    let document = Manifest {
        version: 1,
        merchant: Some(manifest.label.clone()),
        api_key_env: Some(manifest.api_key_env.clone()),
        merchants: Vec::new(),
        allow_http: manifest.allows.http,
        allow_unknown_topics: manifest.allows.unknown_topics,
        subscriptions: manifest
            .subscriptions
            .iter()
            .map(|s| Entry {
                name: escape(&s.name),
                topic: s.topic.clone(),
                callback_url: escape(&s.callback_url),
            })
            .collect(),
    };
    serde_saphyr::to_string(&document)
}

/// What `validate` says of `yaml`, a document [`to_manifest`] or
/// [`as_written`] wrote, read as `file`: each problem with the index of the
/// entry of `subscriptions:` it is in (`None`: outside the list). The one
/// validator, so that what export writes and what a saved plan sends are
/// held to the rules a manifest is.
pub fn problems_by_entry(file: &std::path::Path, yaml: &str) -> Vec<(Option<usize>, super::Diagnostic)> {
    let Err(found) = super::load_str_all(file, yaml, &|_| None) else {
        return Vec::new();
    };
    let mut lines = yaml.lines().enumerate();
    let _ = lines.any(|(_, l)| l == "subscriptions:");
    let mut indent = None;
    let starts: Vec<usize> = lines
        .filter(|(_, l)| {
            let at = l.len() - l.trim_start().len();
            l.trim_start().starts_with("- ") && *indent.get_or_insert(at) == at
        })
        .map(|(i, _)| i + 1)
        .collect();
    found
        .0
        .into_iter()
        .map(|d| (starts.iter().rposition(|&line| line <= d.location.line), d))
        .collect()
}

/// The subscriptions of `live` (sorted by topic, name, id) a manifest
/// declares: the first of each (topic, name). The warnings say which
/// duplicates were left out and which URLs carry a secret, prefixed with
/// `merchant` when given.
pub(super) fn kept<'a>(
    live: &'a [LiveSubscription],
    merchant: Option<&str>,
) -> (Vec<&'a LiveSubscription>, Vec<String>) {
    let whose = merchant.map_or_else(String::new, |m| format!("merchant `{m}`: "));
    let mut warnings = Vec::new();
    let mut kept: Vec<&LiveSubscription> = Vec::new();
    for sub in live {
        if kept
            .last()
            .is_some_and(|e| e.topic == sub.topic && e.name == sub.name)
        {
            warnings.push(format!(
                "{whose}duplicate `{}` on `{}` [{}] left out: a manifest declares each (topic, name) once, so `apply` would delete it",
                sub.name, sub.topic, sub.id
            ));
            continue;
        }
        if has_secret(&sub.callback_url) {
            warnings.push(format!(
                "{whose}`{}` on `{}` has a secret in its URL ({}); consider `${{VAR}}` in the manifest instead of committing it",
                sub.name,
                sub.topic,
                mask_url(&sub.callback_url)
            ));
        }
        kept.push(sub);
    }
    (kept, warnings)
}

/// Whether any URL is plain http (`allowHttp: true` keeps it valid), by
/// its parsed scheme: `HTTP://` is http too.
pub(super) fn allow_http<'a>(live: impl IntoIterator<Item = &'a LiveSubscription>) -> bool {
    live.into_iter()
        .any(|s| url::Url::parse(&s.callback_url).is_ok_and(|u| u.scheme() == "http"))
}

/// Whether any topic is one this release does not know.
pub(super) fn allow_unknown_topics<'a>(live: impl IntoIterator<Item = &'a LiveSubscription>) -> bool {
    live.into_iter().any(|s| !crate::topic::is_known(&s.topic))
}

/// The YAML text of `manifest` under the `# exported by` line.
pub(super) fn document(
    manifest: &Manifest,
    warnings: Vec<String>,
) -> Result<Exported, serde_saphyr::SerializeError> {
    let yaml = serde_saphyr::to_string(manifest)?;
    Ok(Exported {
        yaml: format!(
            "# exported by invhooks {} from live subscriptions\n{yaml}",
            env!("CARGO_PKG_VERSION")
        ),
        written: manifest.subscriptions.len(),
        ids: Vec::new(),
        warnings,
    })
}

/// Escapes `${` so the loader does not expand it.
pub(super) fn escape(text: &str) -> String {
    text.replace("${", "$${")
}
