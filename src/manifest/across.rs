//! Checks across the manifests loaded together: each merchant label
//! declared once, each key variable used by one manifest, no subscription
//! carrying another merchant's key; and [`same_store`], the same key under
//! two variables, for the caller that reads the keys.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::diagnostic::{Anchors, Diagnostic};
use crate::model::{Location, MerchantManifest};

/// Help when two manifests would manage one store.
const ONE_STORE: &str =
    "one key is one store, so each manifest would delete the other's subscriptions as unmanaged";

/// Two manifests that declare the same merchant label, at the line of
/// each one's `merchant:` (1 when it is the file's stem).
pub(super) fn duplicate_labels(loaded: &[(MerchantManifest, Anchors)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut labels: HashMap<&str, Location> = HashMap::new();
    for (manifest, anchors) in loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: anchors.label,
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
pub(super) fn same_key_variable(loaded: &[(MerchantManifest, Anchors)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut first: HashMap<&str, (&str, Location)> = HashMap::new();
    for (manifest, anchors) in loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: anchors.api_key_env.unwrap_or(1),
        };
        let var = manifest.api_key_env.as_str();
        let Some((label, there)) = first.get(var) else {
            first.insert(var, (&manifest.label, here));
            continue;
        };
        let how = if anchors.api_key_env.is_some() {
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
/// already refused by [`load_paths`](super::load_paths)). Each pair is one
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
pub(super) fn other_merchants_keys(
    loaded: &[(MerchantManifest, Anchors)],
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
