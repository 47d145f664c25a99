//! Checks across the manifests loaded together: each merchant label
//! declared once, and no subscription carrying another merchant's key.

use std::collections::HashMap;

use super::diagnostic::Diagnostic;
use crate::model::{Location, MerchantManifest};

/// Two manifests that declare the same merchant label; `label_line` is
/// the line of each one's `merchant:` (1 when it is the file's stem).
pub(super) fn duplicate_labels(loaded: &[(MerchantManifest, usize)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut labels: HashMap<&str, Location> = HashMap::new();
    for (manifest, label_line) in loaded {
        let here = Location {
            file: manifest.file.clone(),
            line: *label_line,
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

/// Subscriptions whose name or URL contains another merchant's API key
/// (each file's own key is refused while it is validated).
pub(super) fn other_merchants_keys(
    loaded: &[(MerchantManifest, usize)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Diagnostic> {
    let keys: Vec<(&str, String)> = loaded
        .iter()
        .filter_map(|(m, _)| Some((m.api_key_env.as_str(), env(&m.api_key_env)?.trim().to_owned())))
        .filter(|(_, key)| !key.is_empty())
        .collect();
    let mut found = Vec::new();
    for (m, _) in loaded {
        for sub in &m.subscriptions {
            let leaked = keys
                .iter()
                .find(|(_, key)| sub.name.contains(key.as_str()) || sub.callback_url.contains(key.as_str()));
            if let Some((var, _)) = leaked {
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
