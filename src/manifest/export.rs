//! Live subscriptions as a manifest (`invhooks export`): a stable order,
//! duplicates left out, `${` escaped, so that `plan` on the output reports
//! no changes. Pure: the command fetches and writes.

use serde::Serialize;

use crate::model::LiveSubscription;
use crate::secret::{has_secret, mask_url};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_env: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_http: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_unknown_topics: bool,
    subscriptions: Vec<Entry>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: String,
    topic: String,
    callback_url: String,
}

/// A manifest made from live subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The YAML text.
    pub yaml: String,
    /// Subscriptions in it (duplicates are left out).
    pub written: usize,
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
) -> Result<Exported, serde_yaml::Error> {
    let mut warnings = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for sub in live {
        if entries
            .last()
            .is_some_and(|e| e.topic == sub.topic && e.name == sub.name)
        {
            warnings.push(format!(
                "duplicate `{}` on `{}` [{}] left out: a manifest declares each (topic, name) once, so `apply` would delete it",
                sub.name, sub.topic, sub.id
            ));
            continue;
        }
        if has_secret(&sub.callback_url) {
            warnings.push(format!(
                "`{}` on `{}` has a secret in its URL ({}); consider `${{VAR}}` in the manifest instead of committing it",
                sub.name,
                sub.topic,
                mask_url(&sub.callback_url)
            ));
        }
        entries.push(Entry {
            name: escape(&sub.name),
            topic: sub.topic.clone(),
            callback_url: escape(&sub.callback_url),
        });
    }
    let manifest = Manifest {
        version: 1,
        merchant,
        api_key_env: (api_key_env != "INVETERATE_API_KEY").then(|| api_key_env.to_owned()),
        allow_http: live.iter().any(|s| s.callback_url.starts_with("http://")),
        allow_unknown_topics: live.iter().any(|s| !crate::topic::is_known(&s.topic)),
        subscriptions: entries,
    };
    let written = manifest.subscriptions.len();
    let yaml = serde_yaml::to_string(&manifest)?;
    Ok(Exported {
        yaml: format!(
            "# exported by invhooks {} from live subscriptions\n{yaml}",
            env!("CARGO_PKG_VERSION")
        ),
        written,
        warnings,
    })
}

/// Escapes `${` so the loader does not expand it.
fn escape(text: &str) -> String {
    text.replace("${", "$${")
}
