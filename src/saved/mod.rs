//! Saved plans (`plan --out PLAN.json`, `apply --plan PLAN.json`): the
//! file's model, how it is written and read back, and the fingerprints that
//! tell whether live state moved since. Pure: [`crate::commands`] reads and
//! writes the file and fetches live state.
//!
//! A saved plan is self-contained: per merchant, the manifest as loaded
//! (real values), the live list the plan was computed from, its
//! fingerprint, and the plan. Applying it needs only each merchant's key.
//! Reading checks the file against itself, so an edited or damaged file is
//! refused before any request. Every key is documented in
//! `docs/plan-json.md` "Saved plan".

mod build;
mod fresh;
mod read;

use serde::{Deserialize, Serialize};

pub use self::build::{build, live_fingerprint, manifest_digest, Sources};
pub use self::fresh::{live_changes, replan};
pub use self::read::{Loaded, LoadedMerchant};
pub use crate::digest::sha256;
use crate::model::LiveSubscription;
use crate::plan::{Action, Fields, SafetyTrip, Summary};
use crate::secret::Masking;

/// The `kind` every saved plan carries, to tell it from other JSON.
pub const KIND: &str = "invhooks-saved-plan";
/// The layout this build writes and reads: a new layout or meaning gets a
/// new number, and readers refuse numbers they do not know.
pub const FORMAT_VERSION: &str = "2";
/// The warning written into every saved plan.
pub const SENSITIVE: &str = "this file holds real callback URLs, which may carry secrets \
    (never the API key); keep it out of logs, public artifacts and git";

/// What stands in a saved plan where a live value held the merchant's API
/// key; fingerprints are taken with the placeholder, so the file never
/// needs the key.
pub fn key_placeholder(api_key_env: &str) -> String {
    format!("${{INVHOOKS_API_KEY_OF:{api_key_env}}}")
}

/// A saved plan, as written to and read from `PLAN.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// One merchant of a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// One merchant's plan as the file stores it, independent of the in-memory
/// [`crate::plan`] types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchantPlan {
    pub merchant: String,
    pub changes: Vec<SavedChange>,
    pub unmanaged: Vec<LiveSubscription>,
    pub summary: Summary,
    pub safety: Option<SafetyTrip>,
}

/// One change as the file stores it: `id` and `before` are `null` for a
/// create, `after` for a delete.
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

/// A merchant's manifest as loaded: variables expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedManifest {
    pub file: String,
    /// Of the file's bytes when the plan was made.
    pub sha256: String,
    pub prune: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary: bool,
    pub ignore: Vec<SavedIgnore>,
    pub subscriptions: Vec<SavedSubscription>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unknown_topics: bool,
}

/// An `ignore:` rule, globs as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedIgnore {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub callback_url: Option<String>,
    pub line: usize,
}

/// A declared subscription, real values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedSubscription {
    pub topic: String,
    pub name: String,
    pub callback_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<String>,
    /// So that `show` masks the plan as `plan` did.
    #[serde(rename = "maskPathSecrets", default, skip_serializing_if = "Masking::is_full")]
    pub masking: Masking,
    pub line: usize,
}

/// The live state a plan was computed from: sorted by id, and its
/// [`live_fingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The JSON of `plan --format json`: masked, for reading, not applying.
    #[error("it is the output of `invhooks plan --format json` (URLs masked), not a saved plan")]
    JsonOutput,
    #[error("it is not an invhooks saved plan (no `\"kind\": \"{KIND}\"`)")]
    Foreign,
    /// A layout this build does not know: the file's version and writer,
    /// and this build's version.
    #[error("it has saved-plan format_version {found:?} (written by invhooks {tool}); this invhooks ({ours}) reads format_version \"{FORMAT_VERSION}\"")]
    Version {
        found: String,
        tool: String,
        ours: String,
    },
    /// Ours, but a key is missing, unknown or of the wrong type.
    #[error("it is damaged: {0}")]
    Damaged(String),
    /// Well-formed, but it disagrees with itself (edited by hand?).
    #[error("it is inconsistent: {0}")]
    Inconsistent(String),
}

#[cfg(test)]
mod tests;
