//! Saved plans (`plan --out`, `apply --plan`; docs/plan-json.md "Saved
//! plan"): per merchant the manifest as loaded (real values), the live list
//! and the plan, so applying needs only each key. Pure: `read` checks a file
//! against itself, [`crate::commands`] does the I/O.

mod read;

use serde::{Deserialize, Serialize};

pub use self::read::{live_changes, replan, Loaded, LoadedMerchant};
use crate::digest::sha256_json;
use crate::model::{DesiredSubscription, IgnoreRule, LiveSubscription, MerchantManifest};
use crate::plan::{self, Action, Fields, MerchantPlan, SafetyTrip, Summary, Thresholds};

pub const KIND: &str = "invhooks-saved-plan";
/// A new layout or meaning gets a new number; readers refuse unknown ones.
pub const FORMAT_VERSION: &str = "2";
pub const SENSITIVE: &str = "this file holds real callback URLs, which may carry secrets \
    (never the API key); keep it out of logs, public artifacts and git";

/// What stands where a live value held the merchant's API key.
pub fn key_placeholder(api_key_env: &str) -> String {
    format!("${{INVHOOKS_API_KEY_OF:{api_key_env}}}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub kind: String,
    pub format_version: String,
    pub tool_version: String,
    pub sensitive: String,
    /// The API base URL the live state was read from.
    pub base_url: String,
    /// Random salt of the merchants' `key_digest`s.
    pub key_salt: String,
    pub manifest_digest: String,
    /// Sorted by label.
    pub merchants: Vec<SavedMerchant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchant {
    pub merchant: String,
    /// The variable's name, never the key.
    pub api_key_env: String,
    /// Salted digest of the key the plan was made with.
    pub key_digest: String,
    pub manifest: SavedManifest,
    pub live: SavedLive,
    pub plan: SavedMerchantPlan,
}

/// One merchant's plan in the file's layout: reading compares it with a
/// fresh plan written the same way (`save_plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchantPlan {
    pub merchant: String,
    pub changes: Vec<SavedChange>,
    pub unmanaged: Vec<LiveSubscription>,
    pub summary: Summary,
    pub safety: Option<SafetyTrip>,
}

/// One change as stored: `id` and `before` `null` for a create, `after`
/// for a delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChange {
    pub action: Action,
    pub topic: String,
    pub name: String,
    pub id: Option<String>,
    pub before: Option<Fields>,
    pub after: Option<Fields>,
    pub duplicate: bool,
}

/// A merchant's manifest as loaded: variables expanded, locations as lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedManifest {
    pub file: String,
    pub sha256: String,
    pub prune: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary: bool,
    pub ignore: Vec<IgnoreRule>,
    pub subscriptions: Vec<DesiredSubscription>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unknown_topics: bool,
}

/// The live list the plan was computed from, sorted by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLive {
    pub fingerprint: String,
    pub subscriptions: Vec<LiveSubscription>,
}

/// Why a file is not a usable saved plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    #[error("it is not valid JSON ({0}); the file is truncated or corrupt")]
    NotJson(String),
    #[error("it is the output of `invhooks plan --format json` (URLs masked), not a saved plan")]
    JsonOutput,
    #[error("it is not an invhooks saved plan (no `\"kind\": \"{KIND}\"`)")]
    Foreign,
    #[error("it has saved-plan format_version {found:?} (written by invhooks {tool}); this invhooks ({ours}) reads format_version \"{FORMAT_VERSION}\"")]
    Version {
        found: String,
        tool: String,
        ours: String,
    },
    #[error("it is damaged: {0}")]
    Damaged(String),
    #[error("it is inconsistent: {0}")]
    Inconsistent(String),
}

/// `sha256:` over each subscription's fields, sorted: only the order the API
/// returns them in does not matter.
pub fn live_fingerprint(live: &[LiveSubscription]) -> String {
    let mut rows: Vec<[&str; 4]> = (live.iter())
        .map(|s| [&*s.id, &s.topic, &s.name, &s.callback_url])
        .collect();
    rows.sort_unstable();
    sha256_json(&("invhooks-live-v1", rows))
}

/// Over the manifest files' paths and digests.
pub fn manifest_digest(files: &[(String, String)]) -> String {
    let mut files = files.to_vec();
    files.sort();
    sha256_json(&("invhooks-manifests-v1", files))
}

impl SavedMerchant {
    /// `m` planned against `live` (keys already placeholders) with the run's `thresholds`.
    pub fn new(
        m: &MerchantManifest,
        mut live: Vec<LiveSubscription>,
        sha256: String,
        key_digest: String,
        thresholds: &Thresholds,
    ) -> Self {
        live.sort();
        SavedMerchant {
            merchant: m.label.clone(),
            api_key_env: m.api_key_env.clone(),
            key_digest,
            manifest: SavedManifest {
                file: m.file.display().to_string(),
                sha256,
                prune: m.prune,
                canary: m.canary,
                ignore: m.ignore.clone(),
                subscriptions: m.subscriptions.clone(),
                allow_http: m.allows.http,
                allow_unknown_topics: m.allows.unknown_topics,
            },
            plan: save_plan(&plan::diff_with(m, &live, thresholds)),
            live: SavedLive {
                fingerprint: live_fingerprint(&live),
                subscriptions: live,
            },
        }
    }
}

impl SavedPlan {
    pub fn new(
        tool_version: &str,
        base_url: &str,
        key_salt: String,
        mut merchants: Vec<SavedMerchant>,
    ) -> Self {
        merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
        let files: Vec<_> = (merchants.iter())
            .map(|m| (m.manifest.file.clone(), m.manifest.sha256.clone()))
            .collect();
        SavedPlan {
            kind: KIND.to_owned(),
            format_version: FORMAT_VERSION.to_owned(),
            tool_version: tool_version.to_owned(),
            sensitive: SENSITIVE.to_owned(),
            base_url: base_url.to_owned(),
            key_salt,
            manifest_digest: manifest_digest(&files),
            merchants,
        }
    }

    pub fn to_json(&self) -> String {
        crate::render::json::pretty(self)
    }
}

fn save_plan(plan: &MerchantPlan) -> SavedMerchantPlan {
    let changes = plan.changes.iter().map(|c| SavedChange {
        action: c.action(),
        topic: c.topic().to_owned(),
        name: c.name().to_owned(),
        id: c.id().map(str::to_owned),
        before: c.before().cloned(),
        after: c.after().cloned(),
        duplicate: c.is_duplicate(),
    });
    SavedMerchantPlan {
        merchant: plan.merchant.clone(),
        changes: changes.collect(),
        unmanaged: plan.unmanaged.clone(),
        summary: plan.summary,
        safety: plan.safety,
    }
}

#[cfg(test)]
mod tests;
