//! Saved plans (`plan --out PLAN.json`, `apply --plan PLAN.json`): the plan
//! file's model, how it is written and read back, and the fingerprints that
//! tell whether live state moved since. Pure: no file or network I/O here;
//! [`crate::commands`] reads and writes the file and fetches live state.
//!
//! A saved plan is self-contained: for each merchant it holds the manifest
//! as loaded (variables expanded, so real values), the live subscriptions
//! the plan was computed from, their fingerprint, and the plan itself.
//! Applying it needs no manifest files and no `${VAR}`s, only each
//! merchant's key, read from the environment variable the file names.
//! Reading checks the file against itself (fingerprint of the stored live
//! list, and the stored plan against a fresh diff of the stored manifest and
//! live list), so an edited or damaged file is refused before any request.
//! The layout is documented key by key in `docs/plan-json.md`.

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
/// The saved-plan layout this build writes and reads. Any change to the
/// layout or the meaning of a key gets a new number; readers refuse numbers
/// they do not know.
pub const FORMAT_VERSION: &str = "2";
/// The warning written into every saved plan.
pub const SENSITIVE: &str = "this file holds real callback URLs, which may carry secrets \
    (never the API key); keep it out of logs, public artifacts and git";

/// What stands in a saved plan where a live value held the merchant's API
/// key (`api_key_env` names its variable); fingerprints are taken over the
/// values with the placeholder, so the file never needs the key.
pub fn key_placeholder(api_key_env: &str) -> String {
    format!("${{INVHOOKS_API_KEY_OF:{api_key_env}}}")
}

/// A saved plan, as written to and read from `PLAN.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    /// Always [`KIND`].
    pub kind: String,
    /// Always [`FORMAT_VERSION`] when written by this build.
    pub format_version: String,
    /// The invhooks that wrote it (`--version`).
    pub tool_version: String,
    /// Always [`SENSITIVE`]: a reminder for whoever opens the file.
    pub sensitive: String,
    /// The API base URL the live state was read from.
    pub base_url: String,
    /// Random salt of the merchants' `key_digest`s.
    pub key_salt: String,
    /// `sha256:` over every manifest file's path and digest.
    pub manifest_digest: String,
    /// One entry per merchant, sorted by label.
    pub merchants: Vec<SavedMerchant>,
}

/// One merchant of a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchant {
    /// The merchant's label.
    pub merchant: String,
    /// The environment variable holding the merchant's key (its name only).
    pub api_key_env: String,
    /// Salted digest of the key the plan was made with: another key refuses it.
    pub key_digest: String,
    /// The manifest the plan was computed from, as loaded.
    pub manifest: SavedManifest,
    /// The live state the plan was computed from.
    pub live: SavedLive,
    /// The changes `apply --plan` makes, exactly.
    pub plan: SavedMerchantPlan,
}

/// One merchant's plan as the file stores it (the layout of
/// `docs/plan-json.md`, independent of the in-memory [`crate::plan`] types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchantPlan {
    /// The merchant's label.
    pub merchant: String,
    /// Creates, updates and deletes, in plan order.
    pub changes: Vec<SavedChange>,
    /// Live subscriptions kept because `prune: false`.
    pub unmanaged: Vec<LiveSubscription>,
    /// Counts of each outcome.
    pub summary: Summary,
    /// Set when `apply` would refuse the plan without `--force`.
    pub safety: Option<SafetyTrip>,
}

/// One change as the file stores it. Reading checks that each action has
/// exactly the keys it needs (a create has no `id` and no `before`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChange {
    /// `create`, `update` or `delete`.
    pub action: Action,
    /// Topic of the subscription.
    pub topic: String,
    /// Name of the subscription.
    pub name: String,
    /// Id of the live subscription (`null` for a create).
    pub id: Option<String>,
    /// Live fields before the change (`null` for a create).
    pub before: Option<Fields>,
    /// Fields after the change (`null` for a delete).
    pub after: Option<Fields>,
    /// A delete of an extra copy of a kept subscription.
    pub duplicate: bool,
}

/// A merchant's manifest as loaded: variables expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedManifest {
    /// The file, as named on the command line (or found in a directory).
    pub file: String,
    /// `sha256:` of the file's bytes when the plan was made.
    pub sha256: String,
    /// `prune:`.
    pub prune: bool,
    /// `canary: true` (only written when set): first in `apply --waves`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary: bool,
    /// `ignore:` rules, globs as written.
    pub ignore: Vec<SavedIgnore>,
    /// Declared subscriptions after `topics:` and `${VAR}` expansion.
    pub subscriptions: Vec<SavedSubscription>,
    /// `allowHttp: true` (absent when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
    /// `allowUnknownTopics: true` (absent when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unknown_topics: bool,
}

/// An `ignore:` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedIgnore {
    /// Glob on the name.
    pub name: Option<String>,
    /// Glob on the topic.
    pub topic: Option<String>,
    /// Glob on the callback URL.
    pub callback_url: Option<String>,
    /// Line of the rule in the manifest.
    pub line: usize,
}

/// A declared subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedSubscription {
    /// Event topic.
    pub topic: String,
    /// Subscription name.
    pub name: String,
    /// Callback URL, real value.
    pub callback_url: String,
    /// `renamedFrom`: the old names it takes over (omitted when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<String>,
    /// `maskPathSecrets` (omitted when `true`, the default), so `show`
    /// masks the plan as `plan` did.
    #[serde(rename = "maskPathSecrets", default, skip_serializing_if = "Masking::is_full")]
    pub masking: Masking,
    /// Line of the entry in the manifest.
    pub line: usize,
}

/// The live state a plan was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLive {
    /// [`live_fingerprint`] of `subscriptions`.
    pub fingerprint: String,
    /// The live subscriptions, sorted by id.
    pub subscriptions: Vec<LiveSubscription>,
}

/// Why a file is not a usable saved plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    /// Not JSON at all, or cut short.
    #[error("it is not valid JSON ({0}); the file is truncated or corrupt")]
    NotJson(String),
    /// The JSON of `plan --format json`: masked, for reading, not applying.
    #[error("it is the output of `invhooks plan --format json` (URLs masked), not a saved plan")]
    JsonOutput,
    /// JSON, but not ours.
    #[error("it is not an invhooks saved plan (no `\"kind\": \"{KIND}\"`)")]
    Foreign,
    /// A layout this build does not know.
    #[error("it has saved-plan format_version {found:?} (written by invhooks {tool}); this invhooks ({ours}) reads format_version \"{FORMAT_VERSION}\"")]
    Version {
        /// The file's `format_version`.
        found: String,
        /// The file's `tool_version`.
        tool: String,
        /// This build's version.
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
