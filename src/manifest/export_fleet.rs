//! The live subscriptions of several stores as one fleet file (`invhooks
//! export --store LABEL=VAR`, README.md "Export a fleet"). A fleet file
//! declares one `subscriptions:` list for every merchant, so the stores
//! must have the same (topic, name) keys; a callback URL that differs
//! between them only in per-store parts is written once as a template
//! (`${VAR}` with each store's part in its `vars`, see
//! [`export_template`](super::export_template)), checked to expand back to
//! every store's URL exactly. Anything else is refused, each difference
//! named. Pure: the command reads the stores and writes the file. Also
//! [`StoreArg`], one `--store` value as parsed.

use std::collections::BTreeMap;

use super::expand::is_var_name;
use super::export::{
    allow_http, allow_unknown_topics, document, escape, kept, Entry, Exported, FleetMerchant, Manifest,
};
use super::export_template::{template, Vars};
use super::fields::MAX_VARS;
use super::fleet::MAX_CHECKS;
use super::look_alike::label_problem;
use crate::model::LiveSubscription;
use crate::secret::mask_url;

/// One `export --store LABEL=VAR`: a label and its key variable in one
/// value, so a label can never be paired with another store's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreArg {
    /// The merchant label.
    pub label: String,
    /// The environment variable holding its API key.
    pub api_key_env: String,
}

impl StoreArg {
    /// Parses `LABEL=VAR`.
    ///
    /// # Errors
    ///
    /// A value without `=`, an empty label or one with a control
    /// character or surrounding whitespace, a label that only looks like
    /// another (an invisible character, a space-like one, not NFC: what
    /// loading the exported `merchant:` would refuse), a VAR that is not a
    /// variable name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let example = "e.g. `--store store-a=KEY_STORE_A`";
        let Some((label, var)) = value.rsplit_once('=') else {
            return Err(format!(
                "expected `LABEL=VAR`, the label and the variable holding its key, {example}"
            ));
        };
        if label.trim().is_empty() || label.trim() != label || label.chars().any(char::is_control) {
            return Err(format!(
                "the label before `=` must be non-empty text without surrounding spaces, {example}"
            ));
        }
        // The checks `merchant:` gets when the file is loaded: refused
        // here, before any request, rather than in the file written.
        if let Some((message, help)) = label_problem("LABEL", label) {
            return Err(format!("{message}; {help}"));
        }
        if !is_var_name(var) {
            return Err(format!(
                "`{}` after `=` is not an environment variable name (letters, digits and `_`, not starting with a digit), {example}",
                crate::escape::show(var)
            ));
        }
        Ok(Self {
            label: label.to_owned(),
            api_key_env: var.to_owned(),
        })
    }
}

/// One store to export: its label, its key variable and its live list.
#[derive(Debug, Clone, Copy)]
pub struct StoreLive<'a> {
    /// The label written as `merchant:`.
    pub label: &'a str,
    /// The variable written as `apiKeyEnv:`.
    pub api_key_env: &'a str,
    /// Its live subscriptions, sorted by topic, name, id.
    pub live: &'a [LiveSubscription],
}

/// Why the stores cannot be one fleet file.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// Each line says which store differs from which, in what subscription
    /// (or which live value holds an API key).
    #[error("the stores cannot share one list of subscriptions")]
    Refused(Vec<String>),
    /// Serialising failed (none in practice: plain strings).
    #[error(transparent)]
    Yaml(#[from] serde_saphyr::SerializeError),
}

/// (topic, name) → callback URL of one store, duplicates left out.
type Keyed<'a> = BTreeMap<(&'a str, &'a str), &'a str>;

/// The fleet file of `stores` (written in label order). `holds_key` says
/// whether a text contains any store's API key: such a value is refused
/// (no template or `vars` may carry a key; exported alone, the store gets
/// a `${VAR}` in the key's place instead).
///
/// # Errors
///
/// [`FleetError::Refused`] naming every difference: a store without a
/// subscription another has, a callback URL that differs beyond per-store
/// parts, a value holding a key.
pub fn to_fleet(stores: &[StoreLive<'_>], holds_key: &dyn Fn(&str) -> bool) -> Result<Exported, FleetError> {
    let mut stores = stores.to_vec();
    stores.sort_by(|a, b| a.label.cmp(b.label));
    let labels: Vec<&str> = stores.iter().map(|s| s.label).collect();
    let (keyed, warnings, mut refused) = read(&stores, holds_key);
    refused.extend(missing(&labels, &keyed));
    let taken = stores.iter().map(|s| s.api_key_env.to_owned()).collect();
    let mut vars = Vars::new(labels.clone(), taken);
    let subscriptions = entries(&labels, &keyed, &mut vars, &mut refused);
    refused.extend(too_many(stores.len(), subscriptions.len(), vars.len()));
    if !refused.is_empty() {
        return Err(FleetError::Refused(refused));
    }
    let live = || stores.iter().flat_map(|s| s.live.iter());
    let manifest = Manifest {
        version: 1,
        merchant: None,
        api_key_env: None,
        merchants: stores
            .iter()
            .enumerate()
            .map(|(i, s)| FleetMerchant {
                merchant: s.label.to_owned(),
                api_key_env: s.api_key_env.to_owned(),
                vars: vars.of(i),
            })
            .collect(),
        allow_http: allow_http(live()),
        allow_unknown_topics: allow_unknown_topics(live()),
        subscriptions,
    };
    Ok(document(&manifest, warnings)?)
}

/// Each store's subscriptions by key (duplicates left out), the warnings,
/// and a refusal line for each value holding a key.
fn read<'a>(
    stores: &[StoreLive<'a>],
    holds_key: &dyn Fn(&str) -> bool,
) -> (Vec<Keyed<'a>>, Vec<String>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut refused = Vec::new();
    let mut keyed = Vec::with_capacity(stores.len());
    for store in stores {
        let (subs, found) = kept(store.live, Some(store.label));
        warnings.extend(found);
        for sub in subs
            .iter()
            .filter(|s| holds_key(&s.name) || holds_key(&s.callback_url))
        {
            refused.push(format!(
                "`{}` has an API key in `{}` on `{}`",
                store.label, sub.name, sub.topic
            ));
        }
        keyed.push(
            subs.iter()
                .map(|s| ((s.topic.as_str(), s.name.as_str()), s.callback_url.as_str()))
                .collect(),
        );
    }
    (keyed, warnings, refused)
}

/// The shared entries of the keys every store has (the others are
/// refused by [`missing`]); a URL no template declares for every store is
/// a line in `refused`.
fn entries(labels: &[&str], keyed: &[Keyed<'_>], vars: &mut Vars, refused: &mut Vec<String>) -> Vec<Entry> {
    let mut subscriptions = Vec::new();
    let shared = keyed
        .first()
        .into_iter()
        .flat_map(|k| k.keys())
        .filter_map(|key| {
            let urls: Option<Vec<&str>> = keyed.iter().map(|k| k.get(key).copied()).collect();
            Some((*key, urls?))
        });
    for ((topic, name), urls) in shared {
        match template(&urls, vars) {
            Ok(callback_url) => subscriptions.push(Entry {
                name: escape(name),
                topic: topic.to_owned(),
                callback_url,
            }),
            Err(other) => refused.push(format!(
                "`{}` has another callback URL than `{}` for `{name}` on `{topic}` (`{}`, `{}`), not one that differs only in per-store parts",
                labels[other],
                labels[0],
                mask_url(urls[other]),
                mask_url(urls[0]),
            )),
        }
    }
    subscriptions
}

/// A fleet file the loader would refuse for its size (README.md "Fleet
/// files": its limits).
fn too_many(stores: usize, subscriptions: usize, vars: usize) -> Option<String> {
    if vars > MAX_VARS {
        return Some(format!(
            "the callback URLs differ in {vars} per-store parts; a merchant's `vars` holds at most {MAX_VARS}"
        ));
    }
    (stores.saturating_mul(subscriptions) > MAX_CHECKS).then(|| {
        format!(
            "{stores} merchants × {subscriptions} subscriptions is more than {MAX_CHECKS} for one fleet file"
        )
    })
}

/// The (topic, name) keys a store lacks or has beyond the first store's
/// (in label order), one line each.
fn missing(labels: &[&str], keyed: &[Keyed<'_>]) -> Vec<String> {
    let Some((first, rest)) = keyed.split_first() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (i, other) in rest.iter().enumerate() {
        let (a, b) = (labels[0], labels[i + 1]);
        for (topic, name) in first.keys().filter(|k| !other.contains_key(*k)) {
            found.push(format!("`{b}` has no `{name}` on `{topic}`; `{a}` does"));
        }
        for (topic, name) in other.keys().filter(|k| !first.contains_key(*k)) {
            found.push(format!("`{b}` has `{name}` on `{topic}`; `{a}` does not"));
        }
    }
    found
}
