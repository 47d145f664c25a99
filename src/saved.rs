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

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{DesiredSubscription, IgnoreRule, LiveSubscription, Location, MerchantManifest, Pattern};
use crate::plan::{self, Action, MerchantPlan, Plan};

/// The `kind` every saved plan carries, to tell it from other JSON.
pub const KIND: &str = "invhooks-saved-plan";
/// The saved-plan layout this build writes and reads. Any change to the
/// layout or the meaning of a key gets a new number; readers refuse numbers
/// they do not know.
pub const FORMAT_VERSION: &str = "1";
/// The warning written into every saved plan.
pub const SENSITIVE: &str = "this file holds real callback URLs, which may carry secrets \
    (never the API key); keep it out of logs, public artifacts and git";

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
    /// The manifest the plan was computed from, as loaded.
    pub manifest: SavedManifest,
    /// The live state the plan was computed from.
    pub live: SavedLive,
    /// The changes `apply --plan` makes, exactly.
    pub plan: MerchantPlan,
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
    /// `ignore:` rules, globs as written.
    pub ignore: Vec<SavedIgnore>,
    /// Declared subscriptions after `topics:` and `${VAR}` expansion.
    pub subscriptions: Vec<SavedSubscription>,
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

/// One manifest file's identity for the plan: its path and digest.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The merchant the file declares.
    pub merchant: String,
    /// `sha256:` of the bytes ([`sha256`]).
    pub sha256: String,
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

/// Hex SHA-256 of `bytes`, prefixed `sha256:`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The fingerprint of a live list: [`sha256`] of the subscriptions' id,
/// topic, name and callback URL, sorted, in a fixed encoding. The order the
/// API returns them in does not matter; any other difference does.
pub fn live_fingerprint(live: &[LiveSubscription]) -> String {
    let mut rows: Vec<[&str; 4]> = live
        .iter()
        .map(|s| {
            [
                s.id.as_str(),
                s.topic.as_str(),
                s.name.as_str(),
                s.callback_url.as_str(),
            ]
        })
        .collect();
    rows.sort_unstable();
    // Arrays of strings always serialise.
    let json = serde_json::to_string(&("invhooks-live-v1", rows)).unwrap_or_default();
    sha256(json.as_bytes())
}

/// The digest of all manifest files: [`sha256`] over their paths and digests.
pub fn manifest_digest(files: &[(String, String)]) -> String {
    let mut files = files.to_vec();
    files.sort();
    let json = serde_json::to_string(&("invhooks-manifests-v1", files)).unwrap_or_default();
    sha256(json.as_bytes())
}

/// Builds the saved plan of `plan`, computed from `manifests` and `live`
/// (in the same order). `files` gives each manifest file's digest.
pub fn build(
    tool_version: &str,
    base_url: &str,
    manifests: &[MerchantManifest],
    live: &[Vec<LiveSubscription>],
    files: &[String],
    plan: &Plan,
) -> SavedPlan {
    let mut merchants: Vec<SavedMerchant> = manifests
        .iter()
        .zip(live)
        .zip(files)
        .filter_map(|((m, live), sha)| {
            let merchant_plan = plan.merchants.iter().find(|p| p.merchant == m.label)?;
            let mut subscriptions = live.clone();
            subscriptions.sort();
            Some(SavedMerchant {
                merchant: m.label.clone(),
                api_key_env: m.api_key_env.clone(),
                manifest: save_manifest(m, sha),
                live: SavedLive {
                    fingerprint: live_fingerprint(&subscriptions),
                    subscriptions,
                },
                plan: merchant_plan.clone(),
            })
        })
        .collect();
    merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    let digests: Vec<(String, String)> = merchants
        .iter()
        .map(|m| (m.manifest.file.clone(), m.manifest.sha256.clone()))
        .collect();
    SavedPlan {
        kind: KIND.to_owned(),
        format_version: FORMAT_VERSION.to_owned(),
        tool_version: tool_version.to_owned(),
        sensitive: SENSITIVE.to_owned(),
        base_url: base_url.to_owned(),
        manifest_digest: manifest_digest(&digests),
        merchants,
    }
}

fn save_manifest(m: &MerchantManifest, sha: &str) -> SavedManifest {
    SavedManifest {
        file: m.file.display().to_string(),
        sha256: sha.to_owned(),
        prune: m.prune,
        ignore: m
            .ignore
            .iter()
            .map(|r| SavedIgnore {
                name: r.name.as_ref().map(|p| p.as_str().to_owned()),
                topic: r.topic.as_ref().map(|p| p.as_str().to_owned()),
                callback_url: r.callback_url.as_ref().map(|p| p.as_str().to_owned()),
                line: r.location.line,
            })
            .collect(),
        subscriptions: m
            .subscriptions
            .iter()
            .map(|s| SavedSubscription {
                topic: s.topic.clone(),
                name: s.name.clone(),
                callback_url: s.callback_url.clone(),
                line: s.location.line,
            })
            .collect(),
    }
}

impl SavedPlan {
    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Plain structs of strings, numbers and options always serialise.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a saved plan and checks it against itself; `ours` is this
    /// build's version, for the message about an unknown format.
    ///
    /// # Errors
    ///
    /// A file that is not JSON, not a saved plan, of another format
    /// version, missing or mistyping a key, or inconsistent.
    pub fn parse(text: &str, ours: &str) -> Result<SavedPlan, PlanFileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PlanFileError::NotJson(e.to_string()))?;
        let str_key = |key: &str| value.get(key).and_then(|v| v.as_str());
        if str_key("kind") != Some(KIND) {
            let looks_like_output = value.get("kind").is_none()
                && value.get("format_version").is_some()
                && value.get("merchants").is_some();
            return Err(if looks_like_output {
                PlanFileError::JsonOutput
            } else {
                PlanFileError::Foreign
            });
        }
        let version = value
            .get("format_version")
            .map_or_else(String::new, |v| match v.as_str() {
                Some(s) => s.to_owned(),
                None => v.to_string(),
            });
        if version != FORMAT_VERSION {
            return Err(PlanFileError::Version {
                found: version,
                tool: str_key("tool_version").unwrap_or("unknown").to_owned(),
                ours: ours.to_owned(),
            });
        }
        let saved: SavedPlan =
            serde_json::from_value(value).map_err(|e| PlanFileError::Damaged(e.to_string()))?;
        saved.check()?;
        Ok(saved)
    }

    /// The plan the file holds.
    pub fn plan(&self) -> Plan {
        Plan {
            merchants: self.merchants.iter().map(|m| m.plan.clone()).collect(),
        }
    }

    /// Checks that the file agrees with itself.
    fn check(&self) -> Result<(), PlanFileError> {
        let bad = |message: String| Err(PlanFileError::Inconsistent(message));
        if self.merchants.is_empty() {
            return bad("it names no merchant".to_owned());
        }
        let mut labels = HashSet::new();
        for m in &self.merchants {
            if !labels.insert(m.merchant.as_str()) {
                return bad(format!("merchant `{}` appears twice", m.merchant));
            }
            if m.plan.merchant != m.merchant {
                return bad(format!(
                    "merchant `{}` holds the plan of `{}`",
                    m.merchant, m.plan.merchant
                ));
            }
            if m.api_key_env.trim().is_empty() {
                return bad(format!("merchant `{}` names no API key variable", m.merchant));
            }
            if live_fingerprint(&m.live.subscriptions) != m.live.fingerprint {
                return bad(format!(
                    "merchant `{}`: the live fingerprint does not match the stored live subscriptions",
                    m.merchant
                ));
            }
            let manifest = m.manifest()?;
            if plan::diff(&manifest, &m.live.subscriptions) != m.plan {
                return bad(format!(
                    "merchant `{}`: the stored changes are not what its manifest and live state give \
                     (edited by hand, or written by another invhooks version: {})",
                    m.merchant, self.tool_version
                ));
            }
            for change in &m.plan.changes {
                let shaped = match change.action {
                    Action::Create => change.id.is_none() && change.after.is_some(),
                    Action::Update => {
                        change.id.is_some() && change.before.is_some() && change.after.is_some()
                    }
                    Action::Delete => change.id.is_some() && change.before.is_some(),
                };
                if !shaped {
                    return bad(format!(
                        "merchant `{}`: a {} change is malformed",
                        m.merchant, change.action
                    ));
                }
            }
        }
        Ok(())
    }
}

impl SavedMerchant {
    /// The manifest as it was loaded, rebuilt for `apply`'s verification.
    ///
    /// # Errors
    ///
    /// An `ignore` glob that does not compile.
    pub fn manifest(&self) -> Result<MerchantManifest, PlanFileError> {
        let file = PathBuf::from(&self.manifest.file);
        let at = |line: usize| Location {
            file: file.clone(),
            line,
        };
        let glob = |g: &Option<String>| -> Result<Option<Pattern>, PlanFileError> {
            g.as_deref()
                .map(|g| {
                    Pattern::new(g).map_err(|e| {
                        PlanFileError::Damaged(format!(
                            "merchant `{}`: ignore glob `{g}`: {e}",
                            self.merchant
                        ))
                    })
                })
                .transpose()
        };
        let mut ignore = Vec::with_capacity(self.manifest.ignore.len());
        for rule in &self.manifest.ignore {
            ignore.push(IgnoreRule {
                name: glob(&rule.name)?,
                topic: glob(&rule.topic)?,
                callback_url: glob(&rule.callback_url)?,
                location: at(rule.line),
            });
        }
        Ok(MerchantManifest {
            label: self.merchant.clone(),
            file: file.clone(),
            api_key_env: self.api_key_env.clone(),
            prune: self.manifest.prune,
            ignore,
            subscriptions: self
                .manifest
                .subscriptions
                .iter()
                .map(|s| DesiredSubscription {
                    topic: s.topic.clone(),
                    name: s.name.clone(),
                    callback_url: s.callback_url.clone(),
                    location: at(s.line),
                })
                .collect(),
        })
    }
}

/// How live state moved since a plan was saved, one line per subscription
/// (masked URLs), for the "plan is stale" message. At most `max` lines.
pub fn live_changes(saved: &[LiveSubscription], now: &[LiveSubscription], max: usize) -> Vec<String> {
    use crate::secret::mask_url;
    let mut lines = Vec::new();
    for s in now {
        match saved.iter().find(|o| o.id == s.id) {
            None => lines.push(format!(
                "added {} {} [{}] {}",
                s.topic,
                s.name,
                s.id,
                mask_url(&s.callback_url)
            )),
            Some(o) if o != s => {
                let what = if o.callback_url != s.callback_url {
                    let (a, b) = (mask_url(&o.callback_url), mask_url(&s.callback_url));
                    if a == b {
                        format!("callback URL secret changed ({b})")
                    } else {
                        format!("callback URL {a} → {b}")
                    }
                } else {
                    format!("was {} {}", o.topic, o.name)
                };
                lines.push(format!("changed {} {} [{}]: {what}", s.topic, s.name, s.id));
            }
            Some(_) => {}
        }
    }
    for o in saved.iter().filter(|o| !now.iter().any(|s| s.id == o.id)) {
        lines.push(format!("removed {} {} [{}]", o.topic, o.name, o.id));
    }
    lines.sort();
    if lines.len() > max {
        let more = lines.len() - max;
        lines.truncate(max);
        lines.push(format!("and {more} more"));
    }
    lines
}

#[cfg(test)]
#[path = "saved_tests.rs"]
mod tests;
